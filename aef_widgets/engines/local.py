"""The in-process engine: products computed with numpy from any EmbeddingSource.

What the map view reads, and where areas are measured, is the engine's ``LocalContext`` (``engines.context``):
products are values, drawn with it (``product.layer(engine.context, view)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING

import numpy as np

from ..analysis.composite import BandStretch, PCAComposite, RGBStyle
from ..analysis.contrast import contrast_score
from ..analysis.kmeans import EmbeddingKMeans
from ..analysis.similarity import reference_similarity
from ..core.aoi import AOI
from ..core.errors import NoDataAtPoint, NoDataError, UsageError
from ..core.field import BandField, EmbeddingField
from ..core.grid import Grid
from ..rendering.view import MapView, Resampler
from ..sources.base import EmbeddingSource
from .base import Engine, Progress
from .context import LocalContext
from .local_products import LocalChange, LocalClusters, LocalRGB, LocalSimilarity
from .workflows import cluster_grid

if TYPE_CHECKING:
    from .local_classes import LocalClasses


class LocalEngine(Engine):
    """Products from a local or remote-file source, computed in this process; they are drawn and measured with
    ``context`` (a ``LocalContext``), which the engine's own view methods also use."""

    def __init__(self, source: EmbeddingSource, cached_fields: int = 3, executor: Executor | None = None) -> None:
        self.source = source
        #: Where whole-AOI work (k-means, areas) runs its chunks: threads here, or a Dask cluster's executor.
        self.executor = executor
        self.context = LocalContext(source, cached_fields, executor)

    # reading the view: the context's, named here as before -------------------------------------------------
    def view_grid(self, view: MapView) -> Grid | None:
        return self.context.view_grid(view)

    def view_field(self, year: int, view: MapView) -> tuple[EmbeddingField, Resampler] | None:
        return self.context.view_field(year, view)

    def view_bands(self, year: int, view: MapView, bands: tuple[int, ...]) -> tuple[BandField, Resampler] | None:
        return self.context.view_bands(year, view, bands)

    def preview_bands(self, year: int, view: MapView, bands: tuple[int, ...]) -> tuple[BandField, Resampler] | None:
        return self.context.preview_bands(year, view, bands)

    def pca(self, year: int, field: EmbeddingField | None = None) -> PCAComposite:
        return self.context.pca(year, field)

    def measure_grid(self, aoi: AOI | None, view: MapView | None) -> tuple[Grid, AOI | None, str]:
        return self.context.measure_grid(aoi, view)

    # products ---------------------------------------------------------------------------------------------
    def rgb(self, year: int, style: RGBStyle | None = None, region: AOI | MapView | None = None) -> LocalRGB:
        # PCA colours are fitted on the whole footprint here, so they stay put whatever the region
        self.source.check_year(year)
        return LocalRGB(year, style or BandStretch())

    def similarity(
        self, year: int, points: Sequence[tuple[float, float]], aoi: AOI | None = None,
        negatives: Sequence[tuple[float, float]] = (),
    ) -> LocalSimilarity:  # fmt: skip
        self.source.check_year(year)
        if not points:
            raise NoDataError("click the map to choose a reference pixel")
        vectors = self.source.sample([*negatives, *points], year)  # one read; positives last, as on Earth Engine
        neg, vectors = vectors[: len(negatives)], vectors[len(negatives) :]
        if not np.isfinite(vectors[-1]).all() or not np.isfinite(neg).all():
            raise NoDataAtPoint("there is no embedding at that point; click where the map has data")
        if len(neg):
            readout = float(contrast_score(vectors[-1], vectors, neg))
            return LocalSimilarity.of(year, vectors, readout, aoi, neg)
        readout = reference_similarity(vectors[-1], vectors)
        return LocalSimilarity.of(year, vectors, readout, aoi)

    def change(self, year_a: int, year_b: int, aoi: AOI | None = None) -> LocalChange:
        self.source.check_year(year_a)
        self.source.check_year(year_b)
        if year_a == year_b:
            raise UsageError("choose two different years to see change")
        return LocalChange(year_a, year_b, aoi)

    def clusters(
        self,
        year: int,
        aoi: AOI | None,
        view: MapView | None,
        n_clusters: int,
        n_samples: int = 500,
        seed: int = 0,
        progress: Progress | None = None,
    ) -> LocalClusters:
        self.source.check_year(year)
        grid, mask_aoi, scope = self.measure_grid(aoi, view)
        model = EmbeddingKMeans(n_clusters=n_clusters, n_samples=n_samples, random_state=seed)
        labels = cluster_grid(self.source, grid, year, mask_aoi, model, progress, executor=self.executor)
        return LocalClusters(year, labels, grid, model, scope)

    def classes(
        self,
        year: int,
        points: Sequence[tuple[float, float]],
        targets: Sequence[int],
        n_classes: int,
        aoi: AOI | None,
        view: MapView | None,
        method: str = "auto",
        seed: int = 0,
        progress: Progress | None = None,
    ) -> LocalClasses:
        from .local_classes import local_classes  # scikit-learn: loaded when something is classified

        return local_classes(self.context, year, points, targets, n_classes, aoi, view, method, seed, progress)
