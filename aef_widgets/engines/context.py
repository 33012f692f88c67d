"""The reader context of the local engine: how products of one source read what the map shows.

A product is what was computed (a year, references, an AOI, ...); reading the view it is drawn for is given to it
by this context: the source grid of a view at about screen resolution, the embeddings and bands under it (cached by
bytes), the resampler onto the map, PCA colours, and where areas are measured. Products are frozen values given the
context when they draw (``product.layer(ctx, view)``); what they remember between calls (a view's values, area
histograms, resamplers) is kept here, in one bounded memo keyed by the product's token (``memo``).

The map view is read at the coarsest power-of-two multiple of the native pixel size that still gives about one
pixel per screen pixel, so panning a continent costs what panning a field does. Areas are measured in the AOI at
native resolution; without an AOI, in the view at the resolution it was read.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from concurrent.futures import Executor
from typing import TypeVar

from ..analysis.composite import PCAComposite
from ..core.aoi import AOI
from ..core.errors import TooManyFilesError
from ..core.field import BandField, EmbeddingField
from ..core.grid import Grid
from ..core.memory import ENGINE_CACHE_ENV, ENGINE_CACHE_MB, budget_bytes
from ..rendering.view import MapView, Resampler
from ..sources.base import EmbeddingSource
from .memo import Memo

#: Pixels of the coarse read used to fit the PCA colours of a year.
_PCA_FIT_PX = 256
#: How much coarser than the view's data a remote source's first picture is read: 1/64 of the pixels, from an
#: overview 8 times coarser (the release's files have every power of two down to 1 px).
PREVIEW_FACTOR = 8
#: A first picture is read only when the full read fetches at least this many times the tile positions the coarse
#: one does (a tile of any level holds about the same bytes). A 10 m view inside one of a real file's 1024 px tile
#: positions would fetch one 1024 px overview tile a band, as many bytes as the full read: it would only delay it.
PREVIEW_MIN_TILE_RATIO = 2
#: Entries of the products' memo: two views' maps and histograms of the few products on the map at once.
PRODUCT_MEMO_ENTRIES = 32
T = TypeVar("T")


class LocalContext:
    """What products of one source read the map view through: grids of a view, its fields and bands (cached),
    PCA colours of a year, where areas are measured, and where whole-AOI work runs."""

    def __init__(self, source: EmbeddingSource, cached_fields: int = 3, executor: Executor | None = None) -> None:
        self.source = source
        #: Where whole-AOI work (k-means, areas) runs its chunks: threads here, or a Dask cluster's executor.
        self.executor = executor
        # bounded by bytes too (``AEF_WIDGETS_ENGINE_CACHE_MB``, shared out below and no more): a full-screen view of
        # 64 float32 bands is ~36 MiB; the newest entry of each memo is kept even when larger
        budget = budget_bytes(ENGINE_CACHE_ENV, ENGINE_CACHE_MB)
        self._fields: Memo[EmbeddingField] = Memo(cached_fields, max_bytes=budget // 2)
        self._bands: Memo[BandField] = Memo(cached_fields, max_bytes=budget // 8)
        self._resamplers: Memo[Resampler] = Memo(6, max_bytes=budget // 8)
        self._pca: Memo[PCAComposite] = Memo(8)
        #: The labels' vectors and the classifier fitted on them, by year and labels: drawing or clearing an AOI,
        #: or panning without one, maps the same labels elsewhere and needs no new fit (nor its cross-validation)
        self.trained: Memo[tuple] = Memo(2)
        # what a view maps to: every layer of every click asks, and each answer costs a dozen pyproj transformer
        # constructions (about 1 ms each), so it is remembered until the view moves
        self._views: Memo[tuple[Grid, Grid] | None] = Memo(16)
        # what products remember between calls, keyed by their token: once per product, bounded for all of them
        self._products: Memo = Memo(PRODUCT_MEMO_ENTRIES, max_bytes=budget // 4)
        self._lonlat_bounds = source.footprint.lonlat_bounds()

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` remembered under ``key`` (a product's token first: products never share entries), in one
        memo bounded by entries and bytes whichever products ask."""
        return self._products.get(key, compute)

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

    def preview_bands(self, year: int, view: MapView, bands: tuple[int, ...]) -> tuple[BandField, Resampler] | None:
        """These bands of the view read ``PREVIEW_FACTOR`` times coarser, from an overview: a first picture of a
        remote source while its full read is on the way. None when there is nothing to gain: a local source (one
        read is as quick), a view already read, one with no data, or one whose full read spans too few tile
        positions (``PREVIEW_MIN_TILE_RATIO``)."""
        if not self.source.remote_overviews:
            return None
        grids = self._view_grids(view)
        inside = view.clipped(self._lonlat_bounds)
        if grids is None or inside is None:
            return None
        grid, overlay = grids
        if self._fields.peek((year, grid)) is not None or self._bands.peek((year, grid, bands)) is not None:
            return None
        coarse = self.source.grid(AOI.from_bounds(*inside), resolution=grid.resolution * PREVIEW_FACTOR)
        tiles = len(self.source.chunk_windows(coarse, 1)), len(self.source.chunk_windows(grid, 1))  # chunks of a tile
        if tiles[0] * PREVIEW_MIN_TILE_RATIO > tiles[1]:
            return None
        # neither is kept: the full read replaces them within seconds
        return self.source.read_bands(coarse, year, bands), Resampler(coarse, overlay)

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
