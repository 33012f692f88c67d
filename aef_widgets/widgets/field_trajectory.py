"""FieldTrajectory: the Fields tab's chosen field (clicked on the map or chosen in the list), outlined on the map,
and its change over every year charted, as the Time tab charts a pixel's years.

The chosen field is ``state.field_chosen`` (its position in ``state.field_layer``); its trajectory is the
``products.fields.TRAJECTORY`` node, computed from ``zonal_trajectories`` on the state's engine (local threads, a
Dask cluster, or Earth Engine). The outline is drawn at once, on the kernel's loop; the chart when the years are
measured. Clicking a point of the chart shows that year, as in the Time tab.
"""

from __future__ import annotations

import html
import json

import ipyleaflet
import numpy as np
from ipywidgets import HTML, Layout, VBox

from ..products.fields import OUTLINE, TRAJECTORY, FieldLayer, field_trajectory
from .base import Computed, Panel
from .lifecycle import close_widget

#: Columns that name a field, first match wins (case-insensitive).
NAME_COLUMNS = ("name", "label", "field", "field_id", "id")
#: Line colours of the two series: from the field's first year, and from the year before.
FROM_FIRST_COLOR, FROM_PREVIOUS_COLOR = "#1f77b4", "#ff7f0e"
#: The outline: cyan is in none of the fields' colours (tab20, viridis, magma), so it shows on any of them.
OUTLINE_STYLE = {"color": "#00ffff", "weight": 3, "opacity": 1.0, "fill": False, "fillOpacity": 0.0}
_SWATCH = '<span style="display:inline-block;width:18px;height:3px;background:{};vertical-align:middle"></span>'
#: The chart's legend, under it: outside the data (issue 22 asked it of the Time chart).
LEGEND = (
    f'<div style="font-size:12px">{_SWATCH.format(FROM_FIRST_COLOR)} from the first year &nbsp; '
    f"{_SWATCH.format(FROM_PREVIOUS_COLOR)} from the year before</div>"
)


def field_names(table) -> list[str]:
    """How the tab names each field of a layer: its name or label column if it has one, else its first text
    column, else its position (from 1)."""
    columns = [c for c in table.columns if c != table.geometry.name]
    by_name = {str(c).lower(): c for c in columns}
    from pandas.api.types import is_string_dtype  # pandas 3 reads text as ``str``, not ``object``

    texts = [c for c in columns if is_string_dtype(table[c].dtype) or table[c].dtype == object]
    column = next((by_name[n] for n in NAME_COLUMNS if n in by_name), texts[0] if texts else None)
    if column is None:
        return [f"Field {i + 1}" for i in range(len(table))]
    return [str(x) for x in table[column]]


class FieldTrajectory(Panel):
    """The chosen field's outline and the chart of its change over every year; ``value`` is the trajectory table
    (``zonal_trajectories`` of that field: a row per year with ``change_from_first`` and ``change_from_previous``),
    or None."""

    def __init__(self, state=None, **kwargs) -> None:
        super().__init__(state, **kwargs)
        self.summary = HTML()
        self.summary.add_class("aef-field-trajectory-summary")
        self._years: list[int] = []  # the year of each clickable point
        # built on the first trajectory: bqplot (and pandas under it) is not worth the app's first render
        self.chart = None
        self.lines = self.points = None
        self.chart_box = VBox()
        self.legend = HTML(LEGEND, layout=Layout(visibility="hidden"))
        self.legend.add_class("aef-field-trajectory-legend")
        self._detach.append(lambda: close_widget(self.legend))  # not a child until the first chart
        self._on_map = True  # the Explorer takes the outline off outside the Fields tab
        self.outline = self.layer_slot("Chosen field", OUTLINE.name)
        self.computed = Computed(self, TRAJECTORY.name, self._prepare, self._show, label="field trajectory",
                                 heavy=True)  # fmt: skip
        self.listen(self.state, lambda _: self._select_year(), "year")
        self.children = [self.chart_box, self.summary, self.status]
        self.add_class("aef-field-trajectory")
        self.computed.update()

    def show_on_map(self, on: bool) -> None:
        """Put the chosen field's outline on the map, or take it off (the chart keeps the field)."""
        self._on_map = bool(on)
        self._draw_outline(self.state.field_layer, self.state.field_chosen)

    def _prepare(self):
        layer, position = self.state.field_layer, self.state.field_chosen
        self._draw_outline(layer, position)
        if layer is None or position < 0:
            self.show_status("")
            return None
        ctx = self.state.engine.context
        self._chart(None)  # another field's years are not left on show while these are measured (or fail)
        self.summary.value = ""
        self.show_status("Measuring the field in every year…", "busy")
        return lambda job: (layer, position, field_trajectory(ctx, layer, position))

    def _show(self, result) -> None:
        self.show_status("")
        table = None if result is None else result[2]
        self.value = table
        self.flow.set(TRAJECTORY.name, table)
        self._chart(table)
        if table is None:
            self.summary.value = ""
            return
        name = field_names(result[0].table)[result[1]]
        self.summary.value = _summary(table, name)
        self.chart.title = f"Change of {name}"

    def _draw_outline(self, layer: FieldLayer | None, position: int) -> None:
        import shapely  # loaded with the layer's geopandas anyway; not at the app's start

        if self.outline is None:
            return
        if layer is None or not 0 <= position < len(layer) or not self._on_map:
            self.outline.remove()
            return
        shape = layer.table.geometry.iloc[[position]].to_crs("EPSG:4326").iloc[0]
        feature = {"type": "Feature", "properties": {}, "geometry": json.loads(shapely.to_geojson(shape))}
        if isinstance(self.outline.layer, ipyleaflet.GeoJSON):
            self.outline.layer.data = feature  # moved in place: the old outline never stays beside the new one
            return
        self.outline.show(ipyleaflet.GeoJSON(data=feature, style=OUTLINE_STYLE))

    def _make_chart(self):
        import bqplot

        x, y = bqplot.LinearScale(), bqplot.LinearScale(min=0.0)
        # the legend is HTML under the chart (``LEGEND``): bqplot draws its legend box inside the data area
        self.lines = bqplot.Lines(
            x=[], y=[[], []], scales={"x": x, "y": y}, colors=[FROM_FIRST_COLOR, FROM_PREVIOUS_COLOR],
            labels=["from the first year", "from the year before"], display_legend=False,
        )  # fmt: skip
        self.points = bqplot.Scatter(
            x=[], y=[], scales={"x": x, "y": y}, colors=[FROM_FIRST_COLOR], default_size=64,
            selected_style={"fill": "red", "stroke": "black"}, interactions={"click": "select"},
            tooltip=bqplot.Tooltip(fields=["x", "y"], labels=["year", "change"], formats=["d", ".3f"]),
        )  # fmt: skip
        self.points.on_element_click(self._point_clicked)
        # every year gets a tick and its label (set in ``_chart``): left to d3, it skips some years
        axes = [
            bqplot.Axis(scale=x, label="year", tick_format="d", tick_values=[]),
            bqplot.Axis(scale=y, side="left", label="change (1 − cosine)", tick_format=".2f"),
        ]
        return bqplot.Figure(
            marks=[self.lines, self.points], axes=axes, title="",
            fig_margin={"top": 30, "bottom": 40, "left": 50, "right": 24},
            layout=Layout(width="100%", height="240px", visibility="hidden"),
        )  # fmt: skip

    def _chart(self, table) -> None:
        if self.chart is None:
            if table is None:
                return
            self.chart = self._make_chart()
            self.chart_box.children = [self.chart, self.legend]
        if table is None:
            with self.lines.hold_sync(), self.points.hold_sync():
                self.lines.x, self.lines.y = [], [[], []]
                self.points.x, self.points.y, self.points.selected = [], [], None
            self._years = []
            self.chart.title = ""
            self.chart.layout.visibility = self.legend.layout.visibility = "hidden"  # hidden, it keeps its size
            return
        years = table["year"].to_numpy(dtype=float)
        first = table["change_from_first"].to_numpy(dtype=float)
        shown = np.isfinite(first)  # a year without data has no point to click
        self._years = [int(y) for y in years[shown]]
        with self.lines.hold_sync(), self.points.hold_sync():
            self.lines.x = years
            self.lines.y = np.vstack([first, table["change_from_previous"].to_numpy(dtype=float)])
            self.points.x, self.points.y = years[shown], first[shown]
            self._select_year()
            self.chart.axes[0].tick_values = np.arange(int(years.min()), int(years.max()) + 1)
            scale = self.lines.scales["x"]
            scale.min, scale.max = float(years.min()) - 0.5, float(years.max()) + 0.5  # no point on the frame
        self.chart.layout.visibility = self.legend.layout.visibility = "visible"

    def _select_year(self) -> None:
        """Mark the point of the year the map shows (none if the field has no data then)."""
        if self.points is not None:
            year = self.state.year
            self.points.selected = [self._years.index(year)] if year in self._years else None

    def _point_clicked(self, _mark, content: dict) -> None:
        index = content.get("data", {}).get("index")
        if index is None or not 0 <= int(index) < len(self._years):
            return
        try:
            self.state.year = self._years[int(index)]
        except Exception as e:  # a year the state refuses is explained, not raised
            self.show_error(e)


def _summary(table, name: str) -> str:
    """Where the chart rises most, in words: the largest change from the year before, and from the first year."""
    years = table["year"].to_numpy()
    first, previous = (table[c].to_numpy(dtype=float) for c in ("change_from_first", "change_from_previous"))
    parts = []
    if np.isfinite(previous).any():
        i = int(np.nanargmax(previous))
        parts.append(f"largest change from the year before: <b>{years[i]}</b> ({previous[i]:.3f})")
    if np.isfinite(first).sum() > 1:
        start, i = int(years[np.flatnonzero(np.isfinite(first))[0]]), int(np.nanargmax(first))
        parts.append(f"least like {start}: <b>{years[i]}</b> ({first[i]:.3f})")
    what = html.escape(name)
    return f"{what}: " + "; ".join(parts) if parts else f"{what} has no data in any year."
