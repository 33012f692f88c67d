"""Products of the local engine: frozen values that draw themselves for any view, given the reader context.

Each holds what it was computed for (a year, reference vectors, labels on a grid, ...) and nothing of the engine;
the view's embeddings, the resampler and what is remembered between calls (values of a view, area histograms) come
from the ``LocalContext`` passed to every method, keyed there by the product's ``token``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import numpy as np

from ..analysis.area import ClassAreas, class_areas
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
from .base import (
    AreaSummary,
    ChangeProduct,
    ClusterProduct,
    Product,
    SimilarityProduct,
    ThresholdedProduct,
    token_field,
)
from .context import LocalContext
from .workflows import change_histogram, similarity_histogram


@dataclass(frozen=True, eq=False)
class LocalRGB(Product):
    """A band or PCA composite of one year."""

    year: int
    style: RGBStyle
    token: str = token_field()

    def layer(self, ctx: LocalContext, view: MapView) -> Overlay | None:
        if isinstance(self.style, BandStretch):  # three bands of 64: read only those
            read = ctx.view_bands(self.year, view, tuple(band_index(b) for b in self.style.bands))
            if read is None:
                return None
            return rgb_overlay(band_composite(read[0], self.style), read[1])
        read = ctx.view_field(self.year, view)
        if read is None:
            return None
        field, resampler = read
        return rgb_overlay(ctx.pca(self.year, field).transform(field), resampler)

    def preview(self, ctx: LocalContext, view: MapView) -> Overlay | None:
        """A band composite of the view from a coarse overview of a remote source (see ``LocalContext.preview_bands``);
        None for local sources and PCA colours (fitted on the full read, they would differ from the final ones)."""
        if not isinstance(self.style, BandStretch):
            return None
        read = ctx.preview_bands(self.year, view, tuple(band_index(b) for b in self.style.bands))
        return None if read is None else rgb_overlay(band_composite(read[0], self.style), read[1])


class _LocalThresholded(ThresholdedProduct):
    """Shared behaviour of similarity and change: a value map per view, thresholds, areas from histograms."""

    highlight: str

    def _values(self, ctx: LocalContext, view: MapView) -> tuple[np.ndarray, Resampler] | None:
        raise NotImplementedError

    def _histogram(self, ctx: LocalContext, grid: Grid, aoi: AOI | None) -> AreaHistogram:
        raise NotImplementedError

    def layer(self, ctx: LocalContext, view: MapView) -> Overlay | None:
        values = self._values(ctx, view)
        return None if values is None else continuous_overlay(values[0], self.vmin, self.vmax, self.cmap, values[1])

    def above_layer(self, ctx: LocalContext, threshold: float, view: MapView) -> Overlay | None:
        values = self._values(ctx, view)
        return None if values is None else mask_overlay(above(values[0], threshold), self.highlight, values[1])

    def above_area(self, ctx: LocalContext, threshold: float, view: MapView | None = None) -> AreaSummary:
        grid, aoi, scope = ctx.measure_grid(self.aoi, view)

        def measure() -> AreaHistogram:
            shown = self._values(ctx, view) if self.aoi is None and view is not None else None
            if shown is not None and shown[1].src == grid:  # the view's map is already computed
                return AreaHistogram().add(shown[0], grid)
            return self._histogram(ctx, grid, aoi)

        histogram = ctx.memo((self.token, "histogram", grid), measure)
        return AreaSummary(histogram.area_above(threshold), histogram.percent_above(threshold), scope)


@dataclass(frozen=True, eq=False)
class LocalSimilarity(_LocalThresholded, SimilarityProduct):
    """Similarity to the clicked pixels: the mean of each pixel's cosines to them; with ``negatives``, the contrast
    score (whose map runs from ``vmin`` = -1)."""

    highlight = MATCH_COLOR

    year: int
    references: np.ndarray
    readout: float
    aoi: AOI | None
    negatives: np.ndarray | None = None
    vmin: float = 0.0
    token: str = token_field()

    @classmethod
    def of(
        cls, year: int, references: np.ndarray, readout: float, aoi: AOI | None, negatives: np.ndarray | None = None
    ) -> LocalSimilarity:
        """The product of these references; an empty ``negatives`` is none."""
        if negatives is None or not len(negatives):
            return cls(year, references, readout, aoi)
        # the score runs from -2 to 2; most of it lies between -1 and 1, as on Earth Engine
        return cls(year, references, readout, aoi, negatives, vmin=-1.0)

    def _score(self, field) -> np.ndarray:
        if self.negatives is None:
            return similarity(field, self.references)
        return contrast_score(field, self.references, self.negatives)

    def _values(self, ctx: LocalContext, view: MapView) -> tuple[np.ndarray, Resampler] | None:
        read = ctx.view_field(self.year, view)
        if read is None:
            return None
        field, resampler = read
        return ctx.memo((self.token, "maps", field.grid), lambda: self._score(field)), resampler

    def _histogram(self, ctx: LocalContext, grid: Grid, aoi: AOI | None) -> AreaHistogram:
        return similarity_histogram(ctx.source, grid, self.year, aoi, self.references, ctx.executor, self.negatives)


@dataclass(frozen=True, eq=False)
class LocalChange(_LocalThresholded, ChangeProduct):
    """Change between two years: 1 - the cosine of each pixel's two embeddings."""

    highlight = CHANGED_COLOR

    year_a: int
    year_b: int
    aoi: AOI | None
    token: str = token_field()

    def _values(self, ctx: LocalContext, view: MapView) -> tuple[np.ndarray, Resampler] | None:
        before = ctx.view_field(self.year_a, view)
        after = ctx.view_field(self.year_b, view)
        if before is None or after is None:
            return None
        return ctx.memo((self.token, "maps", before[0].grid), lambda: change(before[0], after[0])), before[1]

    def _histogram(self, ctx: LocalContext, grid: Grid, aoi: AOI | None) -> AreaHistogram:
        return change_histogram(ctx.source, grid, self.year_a, self.year_b, aoi, ctx.executor)


def grid_resampler(ctx: LocalContext, token: str, grid: Grid, view: MapView) -> Resampler | None:
    """The resampler from a product's own grid onto a view (remembered in the context), None off the view."""
    overlay = view.overlay_grid(grid.lonlat_bounds())
    if overlay is None:
        return None
    return ctx.memo((token, "resampler", overlay), lambda: Resampler(grid, overlay))


@dataclass(frozen=True, eq=False)
class LocalClusters(ClusterProduct):
    """K-means labels of an area on the source's grid."""

    year: int
    labels: np.ndarray
    grid: Grid
    model: EmbeddingKMeans
    scope: str
    n_clusters: int = field(init=False)
    colors: tuple[str, ...] = field(init=False)
    areas: ClassAreas = field(init=False)
    token: str = token_field()

    def __post_init__(self) -> None:
        n = int(self.model.n_clusters)
        object.__setattr__(self, "n_clusters", n)
        object.__setattr__(self, "colors", tuple(categorical_colors(n)))
        object.__setattr__(self, "areas", class_areas(self.labels, self.grid, n))

    def layer(self, ctx: LocalContext, view: MapView) -> Overlay | None:
        resampler = grid_resampler(ctx, self.token, self.grid, view)
        return None if resampler is None else categorical_overlay(self.labels, self.colors, resampler)

    def export(self, ctx: LocalContext, path: str | PathLike) -> Path:
        colormap = {i: hex_to_rgba(c) for i, c in enumerate(self.colors)}
        tags = {"YEAR": str(self.year), "CLUSTERS": str(self.n_clusters), "SOURCE": ctx.source.name}
        return write_labels(path, self.labels, self.grid, colormap, tags)
