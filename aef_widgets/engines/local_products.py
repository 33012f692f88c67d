"""Products of the local engine: each draws itself for any view and measures areas on demand."""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np

from ..analysis.area import class_areas
from ..analysis.composite import BandStretch, RGBStyle, band_composite
from ..analysis.contrast import contrast_score
from ..analysis.kmeans import EmbeddingKMeans
from ..analysis.similarity import above, change, similarity
from ..analysis.thresholds import AreaHistogram
from ..core.aoi import AOI
from ..core.bands import band_index
from ..core.grid import Grid
from ..rendering.colors import CHANGED_COLOR, MATCH_COLOR, categorical_colors, hex_to_rgba
from ..rendering.overlay import Overlay, categorical_overlay, continuous_overlay, mask_overlay, rgb_overlay
from ..rendering.view import MapView, Resampler
from ..sources.export import write_labels
from .base import AreaSummary, ChangeProduct, ClusterProduct, Product, SimilarityProduct, ThresholdedProduct
from .context import LocalContext
from .memo import Memo
from .workflows import change_histogram, similarity_histogram


class LocalRGB(Product):
    """A band or PCA composite of one year."""

    def __init__(self, ctx: LocalContext, year: int, style: RGBStyle) -> None:
        self.ctx, self.year, self.style = ctx, year, style

    def layer(self, view: MapView) -> Overlay | None:
        if isinstance(self.style, BandStretch):  # three bands of 64: read only those
            read = self.ctx.view_bands(self.year, view, tuple(band_index(b) for b in self.style.bands))
            if read is None:
                return None
            return rgb_overlay(band_composite(read[0], self.style), read[1])
        read = self.ctx.view_field(self.year, view)
        if read is None:
            return None
        field, resampler = read
        return rgb_overlay(self.ctx.pca(self.year, field).transform(field), resampler)

    def preview(self, view: MapView) -> Overlay | None:
        """A band composite of the view from a coarse overview of a remote source (see ``LocalContext.preview_bands``);
        None for local sources and PCA colours (fitted on the full read, they would differ from the final ones)."""
        if not isinstance(self.style, BandStretch):
            return None
        read = self.ctx.preview_bands(self.year, view, tuple(band_index(b) for b in self.style.bands))
        return None if read is None else rgb_overlay(band_composite(read[0], self.style), read[1])


class _LocalThresholded(ThresholdedProduct):
    """Shared behaviour of similarity and change: a value map per view, thresholds, areas from histograms."""

    ctx: LocalContext
    highlight: str

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

    def above_layer(self, threshold: float, view: MapView) -> Overlay | None:
        values = self._values(view)
        return None if values is None else mask_overlay(above(values[0], threshold), self.highlight, values[1])

    def above_area(self, threshold: float, view: MapView | None = None) -> AreaSummary:
        grid, aoi, scope = self.ctx.measure_grid(self.aoi, view)

        def measure() -> AreaHistogram:
            shown = self._values(view) if self.aoi is None and view is not None else None
            if shown is not None and shown[1].src == grid:  # the view's map is already computed
                return AreaHistogram().add(shown[0], grid)
            return self._histogram(grid, aoi)

        histogram = self._histograms.get(grid, measure)
        return AreaSummary(histogram.area_above(threshold), histogram.percent_above(threshold), scope)


class LocalSimilarity(_LocalThresholded, SimilarityProduct):
    """Similarity to the clicked pixels: the mean of each pixel's cosines to them."""

    highlight = MATCH_COLOR

    def __init__(
        self, ctx: LocalContext, year: int, references: np.ndarray, readout: float, aoi: AOI | None,
        negatives: np.ndarray | None = None,
    ) -> None:  # fmt: skip
        self.ctx, self.year, self.references, self.readout, self.aoi = ctx, year, references, readout, aoi
        self.negatives = negatives if negatives is not None and len(negatives) else None
        if self.negatives is not None:
            self.vmin = -1.0  # the score runs from -2 to 2; most of it lies between -1 and 1, as on Earth Engine
        self._init_maps()

    def _score(self, field) -> np.ndarray:
        if self.negatives is None:
            return similarity(field, self.references)
        return contrast_score(field, self.references, self.negatives)

    def _values(self, view: MapView) -> tuple[np.ndarray, Resampler] | None:
        read = self.ctx.view_field(self.year, view)
        if read is None:
            return None
        field, resampler = read
        return self._maps.get(field.grid, lambda: self._score(field)), resampler

    def _histogram(self, grid: Grid, aoi: AOI | None) -> AreaHistogram:
        return similarity_histogram(
            self.ctx.source, grid, self.year, aoi, self.references, self.ctx.executor, self.negatives
        )


class LocalChange(_LocalThresholded, ChangeProduct):
    """Change between two years: 1 - the cosine of each pixel's two embeddings."""

    highlight = CHANGED_COLOR

    def __init__(self, ctx: LocalContext, year_a: int, year_b: int, aoi: AOI | None) -> None:
        self.ctx, self.year_a, self.year_b, self.aoi = ctx, year_a, year_b, aoi
        self._init_maps()

    def _values(self, view: MapView) -> tuple[np.ndarray, Resampler] | None:
        before = self.ctx.view_field(self.year_a, view)
        after = self.ctx.view_field(self.year_b, view)
        if before is None or after is None:
            return None
        return self._maps.get(before[0].grid, lambda: change(before[0], after[0])), before[1]

    def _histogram(self, grid: Grid, aoi: AOI | None) -> AreaHistogram:
        return change_histogram(self.ctx.source, grid, self.year_a, self.year_b, aoi, self.ctx.executor)


class LocalClusters(ClusterProduct):
    """K-means labels of an area on the source's grid."""

    def __init__(
        self, ctx: LocalContext, year: int, labels: np.ndarray, grid: Grid, model: EmbeddingKMeans, scope: str
    ) -> None:
        self.ctx, self.year, self.labels, self.grid = ctx, year, labels, grid
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
        tags = {"YEAR": str(self.year), "CLUSTERS": str(self.n_clusters), "SOURCE": self.ctx.source.name}
        return write_labels(path, self.labels, self.grid, colormap, tags)
