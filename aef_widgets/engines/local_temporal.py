"""The temporal products of a local source behind the same method names as ``EETemporal``, so a widget can ask
either engine for a chart or an over-all-years map without knowing which it has.

Charts return a ``Trajectory`` on both engines. Maps differ by nature: arrays here (``ChangeYears``,
``AnomalyMap``, streamed over the AOI at 10 m), server-side images on Earth Engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..analysis.area import ClassAreas
from ..analysis.temporal import ChangeYears, Trajectory
from ..analysis.vectors import VectorLayer
from ..core.aoi import AOI
from ..sources.base import EmbeddingSource
from .base import Progress
from .product_export import change_year_polygons
from .temporal_workflows import (
    AnomalyMap,
    anomaly_grid,
    change_years_grid,
    point_trajectory,
    temporal_years,
    trajectory_grid,
)


@dataclass(frozen=True, eq=False)
class LocalTemporal:
    """Every year of a local source, over the years given (all of the source's by default)."""

    source: EmbeddingSource
    years: tuple[int, ...]

    @classmethod
    def of(cls, source: EmbeddingSource, years: Sequence[int] | None = None) -> LocalTemporal:
        return cls(source, temporal_years(source, years))

    def point_trajectory(self, point: tuple[float, float], reference_year: int) -> Trajectory:
        """The clicked pixel's similarities, year by year (one ``sample`` per year)."""
        return point_trajectory(self.source, point, reference_year, self.years)

    def aoi_trajectory(self, aoi: AOI, reference_year: int) -> Trajectory:
        """The AOI's mean similarities, streamed at native resolution."""
        return trajectory_grid(self.source, self.source.grid(aoi), aoi, reference_year, self.years)

    def change_years(self, aoi: AOI, progress: Progress | None = None) -> ChangeYears:
        """When each pixel of the AOI changed, streamed at native resolution."""
        return change_years_grid(self.source, self.source.grid(aoi), aoi, self.years, progress)

    def change_year_areas(self, aoi: AOI, threshold: float = 0.0) -> ClassAreas:
        """Hectares changed by at least ``threshold`` per year (computes the map: keep it and use ``.areas``)."""
        return self.change_years(aoi).areas(threshold)

    def anomaly(self, year: int, aoi: AOI, min_years: int = 2, progress: Progress | None = None) -> AnomalyMap:
        """How far ``year`` departs from the pixels' other years, with the AOI's robust score."""
        return anomaly_grid(self.source, self.source.grid(aoi), aoi, year, self.years, min_years, progress)

    def change_polygons(
        self, aoi: AOI, threshold: float, *, simplify: float = 0.0, min_area_m2: float = 0.0
    ) -> VectorLayer:
        """Polygons of the pixels that changed by at least ``threshold``, with the ``year`` they changed."""
        return change_year_polygons(self.change_years(aoi), threshold, simplify=simplify, min_area_m2=min_area_m2)
