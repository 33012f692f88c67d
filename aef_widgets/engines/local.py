"""The in-process engine: products computed with numpy from any EmbeddingSource.

The map view is read at the coarsest power-of-two multiple of the native pixel size that still gives about one
pixel per screen pixel, so panning a continent costs what panning a field does. Areas are measured in the AOI at
native resolution; without an AOI, in the view at the resolution it was read.
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
from ..core.errors import NoDataAtPoint, NoDataError, TooManyFilesError, UsageError
from ..core.field import BandField, EmbeddingField
from ..core.grid import Grid
from ..core.memory import ENGINE_CACHE_ENV, ENGINE_CACHE_MB, budget_bytes
from ..rendering.view import MapView, Resampler
from ..sources.base import EmbeddingSource
from .base import Engine, Progress
from .local_products import LocalChange, LocalClusters, LocalRGB, LocalSimilarity
from .memo import Memo
from .workflows import cluster_grid

if TYPE_CHECKING:
    from .local_classes import LocalClasses

#: Pixels of the coarse read used to fit the PCA colours of a year.
_PCA_FIT_PX = 256


class LocalEngine(Engine):
    """Products from a local or remote-file source, computed in this process."""

    def __init__(self, source: EmbeddingSource, cached_fields: int = 3, executor: Executor | None = None) -> None:
        self.source = source
        #: Where whole-AOI work (k-means, areas) runs its chunks: threads here, or a Dask cluster's executor.
        self.executor = executor
        # bounded by bytes too (``AEF_WIDGETS_ENGINE_CACHE_MB``): a full-screen view of 64 float32 bands is ~36 MiB
        budget = budget_bytes(ENGINE_CACHE_ENV, ENGINE_CACHE_MB)
        self._fields: Memo[EmbeddingField] = Memo(cached_fields, max_bytes=budget // 2)
        self._bands: Memo[BandField] = Memo(cached_fields, max_bytes=budget // 4)
        self._resamplers: Memo[Resampler] = Memo(6, max_bytes=budget // 4)
        self._pca: Memo[PCAComposite] = Memo(8)
        #: The labels' vectors and the classifier fitted on them, by year and labels: drawing or clearing an AOI,
        #: or panning without one, maps the same labels elsewhere and needs no new fit (nor its cross-validation)
        self.trained: Memo[tuple] = Memo(2)
        # what a view maps to: every layer of every click asks, and each answer costs a dozen pyproj transformer
        # constructions (about 1 ms each), so it is remembered until the view moves
        self._views: Memo[tuple[Grid, Grid] | None] = Memo(16)
        self._lonlat_bounds = source.footprint.lonlat_bounds()

    # reading the view -------------------------------------------------------------------------------------
    def view_grid(self, view: MapView) -> Grid | None:
        """Source grid covering the part of the view that has data, at about screen resolution."""
        grids = self._view_grids(view)
        return None if grids is None else grids[0]

    def _view_grids(self, view: MapView) -> tuple[Grid, Grid] | None:
        """(source grid, overlay grid) of a view, or None where the view shows no data."""

        def compute() -> tuple[Grid, Grid] | None:
            grid = self._source_grid(view)
            overlay = view.overlay_grid(self._lonlat_bounds)
            return None if grid is None or overlay is None else (grid, overlay)

        return self._views.get(view, compute)

    def _source_grid(self, view: MapView) -> Grid | None:
        inside = view.clipped(self._lonlat_bounds)
        if inside is None:
            return None
        resolution = view.data_resolution(self.source.resolution, (inside[1] + inside[3]) / 2)
        return self.source.grid(AOI.from_bounds(*inside), resolution=resolution)

    def view_field(self, year: int, view: MapView) -> tuple[EmbeddingField, Resampler] | None:
        """The embeddings under the view and the resampler that draws them on it (both cached)."""
        grids = self._view_grids(view)
        if grids is None:
            return None
        grid, overlay = grids
        field = self._fields.get((year, grid), lambda: self.source.read_window(grid, year))
        resampler = self._resamplers.get((grid, overlay), lambda: Resampler(grid, overlay))
        return field, resampler

    def view_bands(self, year: int, view: MapView, bands: tuple[int, ...]) -> tuple[BandField, Resampler] | None:
        """Only these bands of the view (a band composite needs 3 of 64), from the view's field when that is read
        already, else read alone: on band-separate files a twentieth of the bytes of the whole field."""
        grids = self._view_grids(view)
        if grids is None:
            return None
        grid, overlay = grids
        full = self._fields.peek((year, grid))
        if full is not None:
            field = full.select(bands)
        else:
            field = self._bands.get((year, grid, bands), lambda: self.source.read_bands(grid, year, bands))
        return field, self._resamplers.get((grid, overlay), lambda: Resampler(grid, overlay))

    def pca(self, year: int, field: EmbeddingField | None = None) -> PCAComposite:
        """PCA colours of a year, fitted once on a coarse read of the whole footprint; on ``field`` (the first
        view drawn) when the footprint is too large to read, as the world-wide public release is."""

        def fit() -> PCAComposite:
            try:
                whole = self.source.grid(None)  # in the source's own units, whatever its footprint's CRS
                resolution = max(whole.width, whole.height) * whole.resolution / _PCA_FIT_PX
                return PCAComposite().fit(self.source.read(None, year, resolution=resolution))
            except TooManyFilesError:
                if field is None:
                    raise
                return PCAComposite().fit(field)

        return self._pca.get(year, fit)

    def measure_grid(self, aoi: AOI | None, view: MapView | None) -> tuple[Grid, AOI | None, str]:
        """Where areas are measured: the AOI at native resolution, else the view as read, else everything."""
        if aoi is not None:
            grid = self.source.grid(aoi)
            return grid, aoi, f"in the AOI at {grid.resolution_text}"
        grid = self.view_grid(view) if view is not None else None
        if grid is None:
            grid = self.source.grid(None, resolution=self._overview_resolution())
            return grid, None, f"in the whole dataset at {grid.resolution_text}"
        return grid, None, f"in the view at {grid.resolution_text}"

    def _overview_resolution(self) -> float:
        whole = self.source.grid(None)
        return max(self.source.resolution, max(whole.width, whole.height) * whole.resolution / 1024)

    # products ---------------------------------------------------------------------------------------------
    def rgb(self, year: int, style: RGBStyle | None = None, region: AOI | MapView | None = None) -> LocalRGB:
        # PCA colours are fitted on the whole footprint here, so they stay put whatever the region
        self.source.check_year(year)
        return LocalRGB(self, year, style or BandStretch())

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
            return LocalSimilarity(self, year, vectors, readout, aoi, neg)
        readout = reference_similarity(vectors[-1], vectors)
        return LocalSimilarity(self, year, vectors, readout, aoi)

    def change(self, year_a: int, year_b: int, aoi: AOI | None = None) -> LocalChange:
        self.source.check_year(year_a)
        self.source.check_year(year_b)
        if year_a == year_b:
            raise UsageError("choose two different years to see change")
        return LocalChange(self, year_a, year_b, aoi)

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
        return LocalClusters(self, year, labels, grid, model, scope)

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

        return local_classes(self, year, points, targets, n_classes, aoi, view, method, seed, progress)
