"""TimeSeriesPanel: every year of the clicked pixel (or the AOI mean) in a chart; clicking a year shows it."""

from __future__ import annotations

import ipyleaflet
import numpy as np
from ipywidgets import HTML, Checkbox, ToggleButton

from ..analysis.temporal import Trajectory
from ..engines import temporal_for
from .base import Computed, Panel
from .year_chart import ChartedYears, YearChart

#: Line colours of the two series: to the reference year, and to the year before.
TO_REFERENCE_COLOR, YEAR_TO_YEAR_COLOR = "#1f77b4", "#ff7f0e"
#: The pixel whose trajectory is charted, on the map: none of the class or highlight colours.
PIXEL_COLOR = "#ffd400"


class TimeSeriesPanel(ChartedYears, Panel):
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
        self.plot = YearChart(
            (TO_REFERENCE_COLOR, YEAR_TO_YEAR_COLOR), ("to the reference year", "to the year before"),
            ("cosine", "similarity"), lambda year: setattr(self.state, "year", year), self.show_error,
            height="260px", legend_class="aef-time-legend",
        )  # fmt: skip
        self._detach.append(self.plot.close)
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

    def set_pixel(self, lon: float, lat: float) -> None:
        """Chart this pixel, as a click on the map does."""
        self.use_aoi.value = False
        self.value = (float(lon), float(lat))

    def _map_event(self, **event) -> None:
        if event.get("type") == "click" and self.picking.value:
            lat, lon = event["coordinates"]
            self.set_pixel(lon, lat)

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
        if trajectory is None:
            self.plot.clear()
            return
        self.plot.show(trajectory.years, trajectory.to_reference, trajectory.year_to_year, trajectory.reference_year,
                       f"Similarity to {trajectory.reference_year}")  # fmt: skip

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
