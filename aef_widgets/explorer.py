"""Explorer: the whole app, a map and a side panel of widgets sharing one state."""

from __future__ import annotations

import html
from concurrent.futures import Executor
from pathlib import Path

import ipyleaflet
from ipywidgets import HTML, HBox, Layout, Tab, ValueWidget, VBox
from traitlets import Any

from .core.memory import bound_malloc
from .sources.base import EmbeddingSource
from .widgets.aoi_drawer import AOIDrawer
from .widgets.band_rgb_selector import BandRGBSelector
from .widgets.base import Panel
from .widgets.change_over_years import ChangeOverYears
from .widgets.change_panel import ChangePanel
from .widgets.classify_panel import ClassifyPanel
from .widgets.cluster_panel import ClusterPanel
from .widgets.fields_panel import FieldsPanel
from .widgets.flow import Flow
from .widgets.index_panel import IndexPanel
from .widgets.jobs import JobRunner
from .widgets.layer_list import LayerList
from .widgets.layer_stack import CRISP_CLASS
from .widgets.lifecycle import close_widget
from .widgets.map_view import make_map
from .widgets.per_map import PerMap
from .widgets.place_finder import PlaceFinder
from .widgets.side_by_side import SideBySide
from .widgets.similarity_probe import SimilarityProbe
from .widgets.state import ExplorerState
from .widgets.time_series import TimeSeriesPanel
from .widgets.year_picker import YearPicker

#: Page-wide rules: categorical overlays stay pixelated when the browser scales them; the tab bar wraps onto a
#: second row rather than cut its titles ("Cluste", "Simila") when seven tabs do not fit the panel's width.
_TAB_BAR = ".jupyter-widgets.widget-tab.aef-tabs > .lm-TabBar"
_STYLE = (
    f"<style>.{CRISP_CLASS} {{ image-rendering: pixelated; image-rendering: crisp-edges; }}"
    f"{_TAB_BAR} > .lm-TabBar-content {{ flex-wrap: wrap; }}"
    f"{_TAB_BAR} .lm-TabBar-tab {{ flex: 1 0 auto; min-width: max-content; padding: 0 8px; }}</style>"
)
TAB_TITLES = ("Layers", "AOI", "Clusters", "Similarity", "Change", "Time", "Classify", "Index", "Fields")


class Explorer(HBox, ValueWidget):
    """Map plus side panel: year, colours and layers, AOI, clusters, similarity, change, time, classification, an
    index from embeddings, per-field products of a polygon layer.

    ``value`` is the shared ``ExplorerState``. With no source, opens the bundled synthetic sample; Earth Engine is
    only used when a source says so, and nothing here ever asks for credentials. ``start`` is a place to open at
    ("lon, lat" or "west, south, east, north"), for sources that cover the world; ``executor`` runs whole-AOI work
    (a Dask ``Client.get_executor()``, for example).
    """

    value = Any()

    def __init__(
        self,
        source: EmbeddingSource | None = None,
        *,
        state: ExplorerState | None = None,
        map: ipyleaflet.Map | None = None,
        runner: JobRunner | None = None,
        height: str = "640px",
        export_dir: str | Path | None = None,
        executor: Executor | None = None,
        start: str | None = None,
    ) -> None:
        bound_malloc()  # a kernel showing the explorer keeps no freed view reads (see core.memory)
        made = {"state": state is None, "map": map is None, "runner": runner is None}
        state = state if state is not None else ExplorerState(source, executor=executor)
        m = map if map is not None else make_map(state.source, layout=Layout(height=height, flex="1 1 auto"))
        runner = runner if runner is not None else JobRunner()
        shared = dict(map=m, runner=runner)
        self.state, self.map, self.runner = state, m, runner
        self.year = YearPicker(state, **shared)
        self.bands = BandRGBSelector(state, **shared)
        self.aoi = AOIDrawer(state, **shared)
        self.clusters = ClusterPanel(state, export_dir=export_dir, **shared)
        self.similarity = SimilarityProbe(state, export_dir=export_dir, **shared)
        self.change = ChangePanel(state, show=False, **shared)
        self.change_over_years = ChangeOverYears(state, export_dir=export_dir, **shared)
        self.time = TimeSeriesPanel(state, **shared)
        self.side_by_side = SideBySide(state, **shared)
        self.classify = ClassifyPanel(state, export_dir=export_dir, **shared)
        self.index = IndexPanel(state, **shared)
        self.fields = FieldsPanel(state, export_dir=export_dir, **shared)
        self.layers = LayerList(m)
        self.place = PlaceFinder(state, **shared)
        if start is not None:
            self.place.text.value = start  # goes there
        self.tabs = Tab(
            children=[VBox([self.bands, HTML("<b>Layers</b>"), self.layers]), self.aoi, self.clusters,
                      self.similarity, VBox([self.change, self.change_over_years]),
                      VBox([self.time, self.side_by_side]), self.classify, self.index, self.fields],
            titles=TAB_TITLES,
        )  # fmt: skip
        self.tabs.add_class("aef-tabs")
        # one handler of the map's clicks: only the open tab's panels get them (their own handlers come off the map)
        handlers = [[p.dispatch_map_events() for p in _panels_in(tab)] for tab in self.tabs.children]
        self._clicks = [[h for h in tab if h is not None] for tab in handlers]
        m.on_interaction(self._map_event)
        self.tabs.observe(self._tab_selected, names="selected_index")
        self.busy = HTML()
        self.busy.add_class("aef-busy")
        runner.on_busy = self._busy
        self.header, self.footer = HTML(_STYLE + self._header()), HTML(self._footer())
        # a new source (the release opened from the sample, say) gets its own name, badge and credit at once
        state.observe(self._source_changed, names="source")
        side = VBox(
            [self.header, self.year, self.place, self.tabs, self.busy, self.footer],
            layout=Layout(width="380px", min_width="320px", overflow="auto", max_height=height),
        )
        side.add_class("aef-side-panel")
        super().__init__([m, side], layout=Layout(width="100%", align_items="stretch"))
        self.add_class("aef-explorer")
        self.value = state
        self._tab_selected()
        #: What the explorer made, and so closes: a state, map or runner given to it is the caller's.
        self._made = made

    @property
    def panels(self) -> tuple[Panel, ...]:
        """Every panel of the explorer."""
        return (self.year, self.bands, self.place, self.aoi, self.clusters, self.similarity, self.change,
                self.change_over_years, self.time, self.side_by_side, self.classify, self.index,
                self.fields)  # fmt: skip

    def close(self) -> None:
        """Close every panel (each detaches its observers and takes its layers and draw tool off the map), the
        explorer's own observers and widgets, and what it made: its runner (work waiting or running for it is
        dropped) and its map. A state or map given to it is left as it was before it. The process's thread pools
        (``core.execution``) are shared and stay. Closing twice is harmless."""
        made = self.__dict__.pop("_made", None)
        if made is None:  # closed already, or ``__init__`` did not finish
            return
        self.layers.close()  # first: the panels' layers leaving the map need no rows
        for panel in self.panels:
            panel.close()
        self.state.unobserve(self._source_changed, names="source")
        self.map.on_interaction(self._map_event, remove=True)
        if self.runner.on_busy == self._busy:
            self.runner.on_busy = None
        if made["runner"]:
            self.runner.close()
        if made["state"] or made["map"]:  # one of them dies: the state no longer follows the map
            Flow.of(self.state).untrack(self.map)
        if made["map"]:
            PerMap.forget(self.map)
        close_widget(self, keep=() if made["map"] else (self.map,))

    def _map_event(self, **event) -> None:
        index = self.tabs.selected_index
        for handle in self._clicks[index] if index is not None else ():
            handle(**event)

    def _busy(self, what: str) -> None:
        self.busy.value = f"<i>Working: {html.escape(what)}…</i>" if what else ""

    def _tab_selected(self, _change=None) -> None:
        # clicks on the map pick similarity references only while that tab is open, not while drawing an AOI
        self.similarity.picking.value = self.tabs.selected_index == TAB_TITLES.index("Similarity")
        self.time.picking.value = self.tabs.selected_index == TAB_TITLES.index("Time")
        self.time.show_on_map(self.time.picking.value)  # its yellow marker is not left beside the probe's
        self.classify.picking.value = self.tabs.selected_index == TAB_TITLES.index("Classify")
        self.index.picking.value = self.tabs.selected_index == TAB_TITLES.index("Index")
        self.fields.picking.value = self.tabs.selected_index == TAB_TITLES.index("Fields")
        self.fields.show_on_map(self.fields.picking.value)  # the chosen field's outline only in its tab

    def _source_changed(self, _change=None) -> None:
        self.header.value, self.footer.value = _STYLE + self._header(), self._footer()

    def _header(self) -> str:
        source = self.state.source
        name = f"<div>{html.escape(source.name)}</div>"
        if source.synthetic:  # the badge names the data itself, so the name is not said twice
            name = (
                '<div class="aef-synthetic-badge" style="background:#fff3cd;border:1px solid #e0b400;padding:2px 6px;'
                'margin:4px 0">Synthetic sample: generated data that imitates AEF embeddings, not real places.</div>'
            )
        return f"<h3 style='margin:4px 0'>AlphaEarth embeddings</h3>{name}"

    def _footer(self) -> str:
        credit = html.escape(self.state.source.attribution)
        return f'<div class="aef-attribution" style="font-size:11px;color:#555">{credit}</div>'


def _panels_in(widget) -> list[Panel]:
    """The panels a tab shows, the parts of panels included (the classify panel's label picker)."""
    found = [widget] if isinstance(widget, Panel) else []
    for child in getattr(widget, "children", ()):
        found += _panels_in(child)
    return found
