"""Products of the local engine: each draws itself for any view and measures areas on demand."""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..analysis.area import class_areas
from ..analysis.composite import BandStretch, RGBStyle, band_composite
from ..analysis.kmeans import EmbeddingKMeans
from ..analysis.similarity import above, change, similarity
from ..analysis.thresholds import AreaHistogram
from ..core.aoi import AOI
from ..core.grid import Grid
from ..rendering.colors import categorical_colors, hex_to_rgba
from ..rendering.overlay import Overlay, categorical_overlay, continuous_overlay, mask_overlay, rgb_overlay
from ..rendering.view import MapView, Resampler
from ..sources.export import write_labels
from .base import AreaSummary, ChangeProduct, ClusterProduct, Product, SimilarityProduct
from .memo import Memo
from .workflows import change_histogram, similarity_histogram

if TYPE_CHECKING:
    from .local import LocalEngine

#: Highlight colours that no colour of the map under them resembles: red over viridis, cyan over magma.
MATCH_COLOR = "#FF2D20"
CHANGED_COLOR = "#00E5FF"


class LocalRGB(Product):
    """A band or PCA composite of one year."""

    def __init__(self, engine: LocalEngine, year: int, style: RGBStyle) -> None:
        self.engine, self.year, self.style = engine, year, style

    def layer(self, view: MapView) -> Overlay | None:
        read = self.engine.view_field(self.year, view)
        if read is None:
            return None
        field, resampler = read
        if isinstance(self.style, BandStretch):
            rgb = band_composite(field, self.style)
        else:
            rgb = self.engine.pca(self.year, field).transform(field)
        return rgb_overlay(rgb, resampler)


class _ThresholdedMap:
    """Shared behaviour of similarity and change: a value map per view, thresholds, areas from histograms."""

    engine: LocalEngine
    aoi: AOI | None
    vmin: float
    vmax: float
    cmap: str

    def _init_maps(self) -> None:
        self._maps: Memo[np.ndarray] = Memo(2)
        self._histograms: Memo[AreaHistogram] = Memo(2)

    def _values(self, view: MapView) -> tuple[np.ndarray, Resampler] | None:
        raise NotImplementedError

    def _histogram(self, grid: Grid, aoi: AOI | None) -> AreaHistogram:
        raise NotImplementedError

    def layer(self, view: MapView) -> Overlay | None:
        values = self._values(view)
        return None if values is None else continuous_overlay(values[0], self.vmin, self.vmax, self.cmap, values[1])

    def _threshold_layer(self, threshold: float, view: MapView, color: str) -> Overlay | None:
        values = self._values(view)
        return None if values is None else mask_overlay(above(values[0], threshold), color, values[1])

    def _area(self, threshold: float, view: MapView | None) -> AreaSummary:
        grid, aoi, scope = self.engine.measure_grid(self.aoi, view)

        def measure() -> AreaHistogram:
            shown = self._values(view) if self.aoi is None and view is not None else None
            if shown is not None and shown[1].src == grid:  # the view's map is already computed
                return AreaHistogram().add(shown[0], grid)
            return self._histogram(grid, aoi)

        histogram = self._histograms.get(grid, measure)
        return AreaSummary(histogram.area_above(threshold), histogram.percent_above(threshold), scope)


class LocalSimilarity(_ThresholdedMap, SimilarityProduct):
    """Similarity to a reference vector (the mean of the clicked pixels)."""

    def __init__(self, engine: LocalEngine, year: int, reference: np.ndarray, readout: float, aoi: AOI | None) -> None:
        self.engine, self.year, self.reference, self.readout, self.aoi = engine, year, reference, readout, aoi
        self._init_maps()

    def _values(self, view: MapView) -> tuple[np.ndarray, Resampler] | None:
        read = self.engine.view_field(self.year, view)
        if read is None:
            return None
        field, resampler = read
        return self._maps.get(field.grid, lambda: similarity(field, self.reference)), resampler

    def _histogram(self, grid: Grid, aoi: AOI | None) -> AreaHistogram:
        return similarity_histogram(self.engine.source, grid, self.year, aoi, self.reference)

    def matches_layer(self, threshold: float, view: MapView) -> Overlay | None:
        return self._threshold_layer(threshold, view, MATCH_COLOR)

    def matches_area(self, threshold: float, view: MapView | None = None) -> AreaSummary:
        return self._area(threshold, view)


class LocalChange(_ThresholdedMap, ChangeProduct):
    """Change magnitude 1 - dot between two years."""

    def __init__(self, engine: LocalEngine, year_a: int, year_b: int, aoi: AOI | None) -> None:
        self.engine, self.year_a, self.year_b, self.aoi = engine, year_a, year_b, aoi
        self._init_maps()

    def _values(self, view: MapView) -> tuple[np.ndarray, Resampler] | None:
        before = self.engine.view_field(self.year_a, view)
        after = self.engine.view_field(self.year_b, view)
        if before is None or after is None:
            return None
        return self._maps.get(before[0].grid, lambda: 1 - change(before[0], after[0])), before[1]

    def _histogram(self, grid: Grid, aoi: AOI | None) -> AreaHistogram:
        return change_histogram(self.engine.source, grid, self.year_a, self.year_b, aoi)

    def changed_layer(self, threshold: float, view: MapView) -> Overlay | None:
        return self._threshold_layer(threshold, view, CHANGED_COLOR)

    def changed_area(self, threshold: float, view: MapView | None = None) -> AreaSummary:
        return self._area(threshold, view)


class LocalClusters(ClusterProduct):
    """K-means labels of an area on the source's grid."""

    def __init__(
        self, engine: LocalEngine, year: int, labels: np.ndarray, grid: Grid, model: EmbeddingKMeans, scope: str
    ) -> None:
        self.engine, self.year, self.labels, self.grid = engine, year, labels, grid
        self.model, self.scope = model, scope
        self.n_clusters = int(model.n_clusters)
        self.colors = tuple(categorical_colors(self.n_clusters))
        self.areas = class_areas(labels, grid, self.n_clusters)
        self._resamplers: Memo[Resampler] = Memo(2)

    def layer(self, view: MapView) -> Overlay | None:
        overlay = view.overlay_grid(self.grid.lonlat_bounds())
        if overlay is None:
            return None
        resampler = self._resamplers.get(overlay, lambda: Resampler(self.grid, overlay))
        return categorical_overlay(self.labels, self.colors, resampler)

    def export(self, path: str | PathLike) -> Path:
        colormap = {i: hex_to_rgba(c) for i, c in enumerate(self.colors)}
        tags = {"YEAR": str(self.year), "CLUSTERS": str(self.n_clusters), "SOURCE": self.engine.source.name}
        return write_labels(path, self.labels, self.grid, colormap, tags)
