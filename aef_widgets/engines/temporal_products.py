"""Products over every year of a source, drawn on the map: when each pixel changed, and how odd one year is.

They wrap the streamed arrays of ``temporal_workflows`` (``ChangeYears``, ``AnomalyMap``, on the source's grid
over an AOI) and draw themselves for any view with the engine's ``LocalContext``, as the local engine's other
products do: frozen values, given the context (``product.layer(ctx, view, threshold)``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import numpy as np

from ..analysis.area import ClassAreas, class_areas
from ..analysis.temporal import NO_YEAR, ChangeYears
from ..core.aoi import AOI
from ..core.errors import UsageError
from ..core.grid import Grid
from ..rendering.colors import CHANGED_COLOR, categorical_colors
from ..rendering.overlay import Overlay, categorical_overlay, continuous_overlay, mask_overlay
from ..rendering.view import MapView, Resampler
from ..sources.vector_export import write_geojson
from .base import AreaSummary, Engine, Product, Progress, ThresholdedProduct, token_field
from .context import LocalContext
from .local_products import grid_resampler
from .local_temporal import LocalTemporal
from .product_export import change_year_polygons, export_change_years
from .temporal_workflows import AnomalyMap


class _OnGrid:
    """Draws arrays of one grid for a view, with the resampling planned once per view (in the context)."""

    grid: Grid
    token: str

    def _resampler(self, ctx: LocalContext, view: MapView) -> Resampler | None:
        return grid_resampler(ctx, self.token, self.grid, view)


@dataclass(frozen=True, eq=False)
class ChangeYearsProduct(_OnGrid, Product):
    """When each pixel of an AOI changed most: one colour per year, for changes at least a threshold."""

    change: ChangeYears
    aoi: AOI
    grid: Grid = field(init=False)
    #: The years a change can be found in (every year but the first), and their colours.
    years: tuple[int, ...] = field(init=False)
    colors: tuple[str, ...] = field(init=False)
    token: str = token_field()

    def __post_init__(self) -> None:
        object.__setattr__(self, "grid", self.change.grid)
        object.__setattr__(self, "years", tuple(int(y) for y in self.change.years[1:]))
        object.__setattr__(self, "colors", tuple(categorical_colors(len(self.years))))

    def labels(self, threshold: float) -> np.ndarray:
        """Index of each pixel's change year in ``years``; -1 where it changed less than ``threshold``."""
        year = self.change.above(threshold)
        index = np.searchsorted(np.asarray(self.years, dtype=np.int16), year)
        return np.where(year == NO_YEAR, -1, index)

    def areas(self, threshold: float) -> ClassAreas:
        """Hectares that changed by at least ``threshold``, per year."""
        return self.change.areas(threshold)

    def layer(self, ctx: LocalContext, view: MapView, threshold: float = 0.0) -> Overlay | None:
        resampler = self._resampler(ctx, view)
        return None if resampler is None else categorical_overlay(self.labels(threshold), self.colors, resampler)

    def export(self, ctx: LocalContext, path: str | PathLike, threshold: float) -> Path:
        """The year map as an int16 COG on the source's grid (0 below ``threshold``, -1 no data), and its sizes."""
        return export_change_years(path, self.change, threshold)

    def export_polygons(
        self, ctx: LocalContext, path: str | PathLike, threshold: float, min_area_m2: float = 0.0
    ) -> Path:
        """Polygons of the pixels changed by at least ``threshold``, with their year and area, as WGS84 GeoJSON."""
        return write_geojson(path, change_year_polygons(self.change, threshold, min_area_m2=min_area_m2))


@dataclass(frozen=True, eq=False)
class AnomalyProduct(_OnGrid, ThresholdedProduct):
    """The robust anomaly score of one year over an AOI; a threshold of 3 means three typical spreads."""

    vmin, vmax, cmap = -3.0, 10.0, "inferno"

    anomaly: AnomalyMap
    aoi: AOI
    grid: Grid = field(init=False)
    year: int = field(init=False)
    token: str = token_field()

    def __post_init__(self) -> None:
        object.__setattr__(self, "grid", self.anomaly.grid)
        object.__setattr__(self, "year", self.anomaly.year)

    def layer(self, ctx: LocalContext, view: MapView) -> Overlay | None:
        resampler = self._resampler(ctx, view)
        return None if resampler is None else continuous_overlay(self.anomaly.score, self.vmin, self.vmax, self.cmap,
                                                                  resampler)  # fmt: skip

    def above_layer(self, ctx: LocalContext, threshold: float, view: MapView) -> Overlay | None:
        resampler = self._resampler(ctx, view)
        if resampler is None:
            return None
        with np.errstate(invalid="ignore"):
            return mask_overlay(self.anomaly.score >= threshold, CHANGED_COLOR, resampler)

    def above_area(self, ctx: LocalContext, threshold: float, view: MapView | None = None) -> AreaSummary:
        score = self.anomaly.score
        with np.errstate(invalid="ignore"):
            labels = np.where(np.isfinite(score), np.where(score >= threshold, 0, 1), -1)
        areas = class_areas(labels, self.grid, 2)
        return AreaSummary(areas.hectares[0], areas.percent[0], f"in the AOI at {self.grid.resolution_text}")


def _local(engine: Engine) -> LocalTemporal:
    ee_engines = sys.modules.get("aef_widgets.engines.earthengine")  # loaded if and only if Earth Engine is used
    if ee_engines is not None and isinstance(engine, ee_engines.EarthEngineEngine):  # server-side, not arrays
        raise UsageError("maps over all years are drawn for local sources; on Earth Engine, use EETemporal")
    return LocalTemporal.of(engine.source)


def change_years_product(engine: Engine, aoi: AOI, progress: Progress | None = None) -> ChangeYearsProduct:
    """When each pixel of the AOI changed, streamed at native resolution."""
    return ChangeYearsProduct(_local(engine).change_years(aoi, progress), aoi)


def anomaly_product(engine: Engine, year: int, aoi: AOI, progress: Progress | None = None) -> AnomalyProduct:
    """How far ``year`` departs from the other years, in every pixel of the AOI."""
    return AnomalyProduct(_local(engine).anomaly(year, aoi, progress=progress), aoi)
