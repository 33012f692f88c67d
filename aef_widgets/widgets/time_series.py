"""TimeSeriesPanel: every year of the clicked pixel (or the AOI mean) in a chart; clicking a year shows it."""

from __future__ import annotations

import ipyleaflet
import numpy as np
from ipywidgets import HTML, Checkbox, Layout, ToggleButton, VBox

from ..analysis.temporal import Trajectory
from ..engines import temporal_for
from .base import Computed, Panel
from .lifecycle import close_widget

#: Line colours of the two series: to the reference year, and to the year before.
TO_REFERENCE_COLOR, YEAR_TO_YEAR_COLOR = "#1f77b4", "#ff7f0e"
#: The pixel whose trajectory is charted, on the map: none of the class or highlight colours.
PIXEL_COLOR = "#ffd400"
_SWATCH = '<span style="display:inline-block;width:18px;height:3px;background:{};vertical-align:middle"></span>'
#: The chart's legend, under it: outside the data.
LEGEND = (
    f'<div style="font-size:12px">{_SWATCH.format(TO_REFERENCE_COLOR)} to the reference year &nbsp; '
    f"{_SWATCH.format(YEAR_TO_YEAR_COLOR)} to the year before</div>"
)


class TimeSeriesPanel(Panel):
    """The trajectory of a pixel or of the AOI; ``value`` is the clicked pixel (lon, lat), or None.

    The chart shows, for every year of the source, the cosine similarity to the reference year (the state's year)
    and to the latest earlier year with data. Clicking a point of the chart sets the state's year, so the map and
    the reference follow. ``trajectory`` holds the ``Trajectory`` charted.
    """

    def __init__(self, state=None, **kwargs) -> None:
        super().__init__(state, **kwargs)
        self.picking = Checkbox(value=True, description="Chart the pixel I click", indent=False)
        self.use_aoi = ToggleButton(description="AOI mean", tooltip="Chart the mean of the AOI's pixels")
        self.summary = HTML()
        self.summary.add_class("aef-trajectory-summary")
        self.trajectory: Trajectory | None = None
        self._years: list[int] = []  # the year of each point of the clickable series
        # the chart is built on the first trajectory: bqplot (and pandas under it) is not worth the app's first render
        self.chart = None
        self.lines = self.points = None
        self.chart_box = VBox()
        self.legend = HTML(LEGEND, layout=Layout(visibility="hidden"))
        self.legend.add_class("aef-time-legend")
        self._detach.append(lambda: close_widget(self.legend))  # not a child until the first chart
        self._on_map = True  # the charted pixel's marker is on the map (the explorer takes it off outside its tab)
        self.computed = Computed(
            self, "trajectory", self._prepare, self._show, label="trajectory",
            key=lambda: self.flow.key("trajectory").plus(pixel=self.value, use_aoi=self.use_aoi.value),
        )  # fmt: skip
        self.marker = self.layer_slot("Charted pixel", "probes")
        self.on_map_interaction(self._map_event)
        self.observe(lambda _: self.computed.update(), names="value")
        self.use_aoi.observe(lambda _: self.computed.update(), names="value")
        hint = HTML("Click the map to chart a pixel's years; click a point of the chart to show that year.")
        self.children = [hint, self.picking, self.use_aoi, self.chart_box, self.summary, self.status]
        self.add_class("aef-time-series")
        self.computed.update()

    def _make_chart(self):
        import bqplot

        x = bqplot.LinearScale()
        y = bqplot.LinearScale()
        # the legend is HTML under the chart (``LEGEND``): bqplot draws its legend box inside the data area
        self.lines = bqplot.Lines(
            x=[], y=[[], []], scales={"x": x, "y": y}, colors=[TO_REFERENCE_COLOR, YEAR_TO_YEAR_COLOR],
            labels=["to the reference year", "to the year before"], display_legend=False,
        )  # fmt: skip
        self.points = bqplot.Scatter(
            x=[], y=[], scales={"x": x, "y": y}, colors=[TO_REFERENCE_COLOR], default_size=64,
            selected_style={"fill": "red", "stroke": "black"}, interactions={"click": "select"},
            tooltip=bqplot.Tooltip(fields=["x", "y"], labels=["year", "similarity"], formats=["d", ".3f"]),
        )  # fmt: skip
        self.points.on_element_click(self._point_clicked)
        # every year gets a tick and its label (set in ``_chart``): left to d3, it ticked 2018, 2019, 2021, 2022...
        axes = [
            bqplot.Axis(scale=x, label="year", tick_format="d", tick_values=[]),
            bqplot.Axis(scale=y, side="left", label="cosine", tick_format=".2f"),
        ]
        return bqplot.Figure(
            marks=[self.lines, self.points], axes=axes, title="",
            fig_margin={"top": 30, "bottom": 40, "left": 50, "right": 24},
            layout=Layout(width="100%", height="260px", visibility="hidden"),
        )  # fmt: skip

    def set_pixel(self, lon: float, lat: float) -> None:
        """Chart this pixel, as a click on the map does."""
        self.use_aoi.value = False
        self.value = (float(lon), float(lat))

    def _map_event(self, **event) -> None:
        if event.get("type") == "click" and self.picking.value:
            lat, lon = event["coordinates"]
            self.set_pixel(lon, lat)

    def _point_clicked(self, _mark, content: dict) -> None:
        data = content.get("data", {})
        index = data.get("index")
        if index is None or not 0 <= int(index) < len(self._years):
            return
        try:
            self.state.year = self._years[int(index)]
        except Exception as e:  # a year the state refuses is explained, not raised
            self.show_error(e)

    def _prepare(self):
        state = self.state
        year, aoi, engine, point = state.year, state.aoi, state.engine, self.value
        self._draw_marker(None if self.use_aoi.value else point)
        if self.use_aoi.value:
            if aoi is None:
                self.show_status("Draw an AOI first to chart its mean.")
                return None
            self.show_status(f"Charting the AOI's mean, every year against {year}…", "busy")
            return lambda job: temporal_for(engine).aoi_trajectory(aoi, year)
        if point is None:
            self.show_status("")
            return None
        self.show_status(f"Charting the pixel, every year against {year}…", "busy")
        return lambda job: temporal_for(engine).point_trajectory(point, year)

    def _show(self, trajectory: Trajectory | None) -> None:
        self.trajectory = trajectory
        self.flow.set("trajectory", trajectory)
        if trajectory is None:
            self._chart(None)
            self.summary.value = ""
            return
        self.show_status("")
        self._chart(trajectory)
        what = "AOI mean" if self.use_aoi.value else "pixel"
        self.summary.value = _summary(trajectory, what)

    def _chart(self, trajectory: Trajectory | None) -> None:
        if self.chart is None:
            if trajectory is None:
                return
            self.chart = self._make_chart()
            self.chart_box.children = [self.chart, self.legend]
        if trajectory is None:
            with self.lines.hold_sync(), self.points.hold_sync():
                self.lines.x, self.lines.y = [], [[], []]
                self.points.x, self.points.y, self.points.selected = [], [], None
            self._years = []
            self.chart.title = ""
            self.chart.layout.visibility = "hidden"  # nothing to chart; hidden, it keeps its size
            self.legend.layout.visibility = "hidden"
            return
        years = np.asarray(trajectory.years, dtype=float)
        shown = np.isfinite(trajectory.to_reference)  # a year without data has no point to click
        self._years = [int(y) for y in np.asarray(trajectory.years)[shown]]
        selected = [self._years.index(trajectory.reference_year)] if trajectory.reference_year in self._years else None
        with self.lines.hold_sync(), self.points.hold_sync():
            self.lines.x = years
            self.lines.y = np.vstack([trajectory.to_reference, trajectory.year_to_year])
            self.points.x, self.points.y = years[shown], trajectory.to_reference[shown]
            self.points.selected = selected
            axis, scale = self.chart.axes[0], self.lines.scales["x"]
            axis.tick_values = np.arange(int(years.min()), int(years.max()) + 1)
            scale.min, scale.max = float(years.min()) - 0.5, float(years.max()) + 0.5  # no point on the frame
        self.chart.title = f"Similarity to {trajectory.reference_year}"
        self.chart.layout.visibility = self.legend.layout.visibility = "visible"

    def show_on_map(self, on: bool) -> None:
        """Put the charted pixel's marker on the map, or take it off (the chart keeps it)."""
        self._on_map = bool(on)
        self._draw_marker(None if self.use_aoi.value else self.value)

    def _draw_marker(self, point: tuple[float, float] | None) -> None:
        if self.marker is None:
            return
        if point is None or not self._on_map:
            self.marker.remove()
            return
        lon, lat = point
        if isinstance(self.marker.layer, ipyleaflet.CircleMarker):
            self.marker.layer.location = (lat, lon)
            return
        self.marker.show(
            ipyleaflet.CircleMarker(
                location=(lat, lon), radius=7, color="#000000", weight=2, fill_color=PIXEL_COLOR, fill_opacity=1
            )
        )


def _summary(trajectory: Trajectory, what: str) -> str:
    """The least similar year, in words: where the chart dips most."""
    to_ref = np.where(np.asarray(trajectory.years) == trajectory.reference_year, np.nan, trajectory.to_reference)
    y2y = trajectory.year_to_year
    parts = []
    if np.isfinite(to_ref).any():
        i = int(np.nanargmin(to_ref))
        parts.append(f"least like {trajectory.reference_year}: <b>{trajectory.years[i]}</b> ({to_ref[i]:.2f})")
    if np.isfinite(y2y).any():
        i = int(np.nanargmin(y2y))
        parts.append(f"largest change from the year before: <b>{trajectory.years[i]}</b> ({y2y[i]:.2f})")
    return f"The {what}: " + "; ".join(parts) if parts else f"The {what} has no data in these years."
