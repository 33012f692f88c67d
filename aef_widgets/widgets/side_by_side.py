"""SideBySide: the RGB of two years on one map, split by a divider the user drags.

ipyleaflet's ``SplitMapControl`` (leaflet-splitmap) clips a layer's *container* when it has one (tile layers) and
otherwise its *pane*. Image overlays have no container, so two overlays in Leaflet's one overlay pane would be
clipped together and both show on the same side (ipyleaflet issue #532, the same for GeoJSON and heatmaps). Here
each side's overlay lives in a pane of its own, so each is clipped alone. Panes are created when a map is first
shown, so the comparison has a map of its own, made with those panes, that follows the main map's centre and zoom.
"""

from __future__ import annotations

import ipyleaflet
from ipywidgets import Checkbox, Dropdown, HBox, Layout
from traitlets import dlink

from ..engines.base import Layer, Tiles
from ..rendering.overlay import Overlay
from .base import VIEW_DEBOUNCE_S, Computed, Panel
from .layer_stack import ImageOverlay
from .lifecycle import close_widget

#: The two panes, above the tiles (200) and under Leaflet's own overlay pane (400).
PANES = {"aef-left": {"zIndex": "350"}, "aef-right": {"zIndex": "351"}}
_EMPTY_BOUNDS = ((0.0, 0.0), (0.0, 0.0))


class SideBySide(Panel):
    """Two years of the RGB composite, left and right of a divider; ``value`` is the pair (left, right)."""

    def __init__(self, state=None, **kwargs) -> None:
        super().__init__(state, **kwargs)
        years = list(self.state.source.years)
        narrow = Layout(width="10em")
        self.left = Dropdown(options=years, value=years[0], description="Left", layout=narrow,
                             style={"description_width": "3em"})  # fmt: skip
        self.right = Dropdown(options=years, value=years[-1], description="right", layout=narrow,
                              style={"description_width": "3em"})  # fmt: skip
        self.show_split = Checkbox(value=False, description="Compare two years side by side", indent=False)
        self.split_map = self._make_map()
        self._detach.append(lambda: close_widget(self.split_map))  # shown or not, it closes with the panel
        self.value = (self.left.value, self.right.value)
        for control in (self.left, self.right):
            control.observe(lambda _: setattr(self, "value", (self.left.value, self.right.value)), names="value")
        self.computed = Computed(
            self, "side by side", self._prepare, self._show, label="side by side", delay=lambda: VIEW_DEBOUNCE_S,
            key=lambda: self.flow.key("side by side").plus(years=self.value, split=self.show_split.value),
        )  # fmt: skip
        self.observe(lambda _: self.computed.update(), names="value")
        self.show_split.observe(self._shown, names="value")
        self.listen(self.state, self._source_changed, "source")
        # the map joins the page when first asked for, so a page that never compares has one map only
        self.children = [self.show_split, HBox([self.left, self.right]), self.status]
        self.add_class("aef-side-by-side")

    def _make_map(self) -> ipyleaflet.Map:
        m = ipyleaflet.Map(panes=PANES, layout=Layout(height="300px"), zoom_control=False, scroll_wheel_zoom=False)
        self.left_layer = ImageOverlay(url="", bounds=_EMPTY_BOUNDS, pane="aef-left", name="Left year", alt="Left year")
        self.right_layer = ImageOverlay(
            url="", bounds=_EMPTY_BOUNDS, pane="aef-right", name="Right year", alt="Right year"
        )
        self.control = ipyleaflet.SplitMapControl(left_layer=self.left_layer, right_layer=self.right_layer)
        m.add(self.control)
        if self.map is not None:  # it looks where the main map looks, until the panel closes
            for name in ("center", "zoom"):
                self._detach.append(dlink((self.map, name), (m, name)).unlink)
        return m

    def _source_changed(self, change) -> None:
        years = list(change["new"].years)
        with self.hold_trait_notifications():
            self.left.options = self.right.options = years
            self.left.value, self.right.value = years[0], years[-1]

    def _shown(self, change) -> None:
        if change["new"] and self.split_map not in self.children:
            self.children = [*self.children[:2], self.split_map, *self.children[2:]]
        self.split_map.layout.display = "" if change["new"] else "none"
        self.computed.update()

    def _prepare(self):
        view = self.current_view()
        if not self.show_split.value or view is None:
            return None
        engine, style, (left, right) = self.state.engine, self.state.rgb_style, self.value
        self.show_status(f"Drawing {left} and {right}…", "busy")
        ctx = engine.context
        return lambda job: (
            engine.rgb(left, style, view).layer(ctx, view),
            engine.rgb(right, style, view).layer(ctx, view),
        )

    def _show(self, layers: tuple[Layer | None, Layer | None] | None) -> None:
        self.show_status("")
        left, right = layers if layers is not None else (None, None)
        self.control.left_layer = self._set(self.left_layer, left, "aef-left")
        self.control.right_layer = self._set(self.right_layer, right, "aef-right")

    def _set(self, overlay: ImageOverlay, spec: Layer | None, pane: str) -> ipyleaflet.Layer:
        shown = self.control.left_layer if pane == "aef-left" else self.control.right_layer
        if isinstance(shown, ipyleaflet.TileLayer) and not (isinstance(spec, Tiles) and shown.url == spec.url):
            shown.close()  # a replaced tile layer is not left alive in the kernel
        elif isinstance(shown, ipyleaflet.TileLayer):
            return shown
        if isinstance(spec, Tiles):  # Earth Engine: tile layers have containers, which the control clips itself
            return ipyleaflet.TileLayer(url=spec.url, attribution=spec.attribution, pane=pane, max_zoom=22)
        with overlay.hold_sync():
            if isinstance(spec, Overlay):
                overlay.url, overlay.bounds = spec.url, spec.bounds
                overlay.class_name = ""
            else:
                overlay.url, overlay.bounds = "", _EMPTY_BOUNDS
        return overlay
