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
from ipywidgets import HTML

from ..products.fields import OUTLINE, TRAJECTORY, FieldLayer, field_trajectory
from .base import Computed, Panel
from .year_chart import ChartedYears, YearChart

#: Columns that name a field, first match wins (case-insensitive).
NAME_COLUMNS = ("name", "label", "field", "field_id", "id")
#: Line colours of the two series: from the field's first year, and from the year before.
FROM_FIRST_COLOR, FROM_PREVIOUS_COLOR = "#1f77b4", "#ff7f0e"
#: The outline: cyan is in none of the fields' colours (tab20, viridis, magma), so it shows on any of them.
OUTLINE_STYLE = {"color": "#00ffff", "weight": 3, "opacity": 1.0, "fill": False, "fillOpacity": 0.0}


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


class FieldTrajectory(ChartedYears, Panel):
    """The chosen field's outline and the chart of its change over every year; ``value`` is the trajectory table
    (``zonal_trajectories`` of that field: a row per year with ``change_from_first`` and ``change_from_previous``),
    or None."""

    def __init__(self, state=None, **kwargs) -> None:
        super().__init__(state, **kwargs)
        self.summary = HTML()
        self.summary.add_class("aef-field-trajectory-summary")
        self.plot = YearChart(
            (FROM_FIRST_COLOR, FROM_PREVIOUS_COLOR), ("from the first year", "from the year before"),
            ("change (1 − cosine)", "change"), lambda year: setattr(self.state, "year", year), self.show_error,
            height="240px", legend_class="aef-field-trajectory-legend", y_min=0.0,
        )  # fmt: skip
        self._detach.append(self.plot.close)
        self._on_map = True  # the Explorer takes the outline off outside the Fields tab
        self.outline = self.layer_slot("Chosen field", OUTLINE.name)
        self.computed = Computed(self, TRAJECTORY.name, self._prepare, self._show, label="field trajectory",
                                 heavy=True)  # fmt: skip
        self.listen(self.state, lambda _: self.plot.select(self.state.year), "year")
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
        self.plot.clear()  # another field's years are not left on show while these are measured (or fail)
        self.summary.value = ""
        self.show_status("Measuring the field in every year…", "busy")
        return lambda job: (layer, position, field_trajectory(ctx, layer, position))

    def _show(self, result) -> None:
        self.show_status("")
        table = None if result is None else result[2]
        self.value = table
        self.flow.set(TRAJECTORY.name, table)
        if table is None:
            self.plot.clear()
            self.summary.value = ""
            return
        name = field_names(result[0].table)[result[1]]
        self.plot.show(table["year"], table["change_from_first"], table["change_from_previous"], self.state.year,
                       f"Change of {name}")  # fmt: skip
        self.summary.value = _summary(table, name)

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
