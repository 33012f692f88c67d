"""The one interface every embedding source implements, local files and Earth Engine alike."""

from __future__ import annotations

import contextlib
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager

import numpy as np
from affine import Affine
from rasterio.windows import Window

from ..core.aoi import AOI
from ..core.errors import YearError
from ..core.field import EmbeddingField
from ..core.grid import Footprint, Grid

ATTRIBUTION = "The AlphaEarth Foundations Satellite Embedding dataset is produced by Google and Google DeepMind."
#: Float32 bytes per pixel of a field (64 bands); chunks are sized from it.
FIELD_BYTES_PER_PIXEL = 64 * 4


class EmbeddingSource(ABC):
    """Where embeddings come from: the years it has, where it has them, and reads of AOIs and points."""

    #: Human-readable name shown in the apps.
    name: str = "embeddings"
    #: Credit line shown on every map of this source.
    attribution: str = ATTRIBUTION
    #: True for generated data that only imitates the real dataset.
    synthetic: bool = False

    @property
    @abstractmethod
    def years(self) -> tuple[int, ...]:
        """The years available, ascending."""

    @property
    @abstractmethod
    def footprint(self) -> Footprint:
        """Bounds and CRS of the area covered."""

    @property
    @abstractmethod
    def resolution(self) -> float:
        """Native pixel size in CRS units (10 m for AEF)."""

    @abstractmethod
    def grid(self, aoi: AOI | None = None, resolution: float | None = None) -> Grid:
        """The grid a ``read`` of this AOI would return, without reading anything."""

    @abstractmethod
    def read_window(self, grid: Grid, year: int) -> EmbeddingField:
        """Embeddings of ``year`` on exactly ``grid`` (pixels without data are masked)."""

    @abstractmethod
    def sample(self, points: Sequence[tuple[float, float]], year: int) -> np.ndarray:
        """(n, 64) float32 vectors at lon/lat points; a row of NaN where there is no data."""

    # shared behaviour ------------------------------------------------------------------------------------
    def check_year(self, year: int) -> int:
        """The year as an int, or a YearError that lists the years there are."""
        if year not in self.years:
            have = ", ".join(map(str, self.years))
            raise YearError(f"{self.name} has no data for {year}; years available: {have}")
        return int(year)

    def read(self, aoi: AOI | None, year: int, resolution: float | None = None) -> EmbeddingField:
        """Embeddings of ``year`` inside ``aoi`` (the whole footprint when None), masked to the AOI's pixels.

        ``resolution`` (CRS units) coarser than native reads overviews where the files have them.
        """
        self.check_year(year)
        grid = self.grid(aoi, resolution)
        field = self.read_window(grid, year)
        return mask_to_aoi(field, aoi)

    def stream(
        self,
        aoi: AOI | None,
        year: int,
        resolution: float | None = None,
        max_chunk_bytes: int = 64 * 2**20,
    ) -> Iterator[tuple[Window, EmbeddingField]]:
        """Read an AOI piece by piece: ``(window, field)`` pairs tiling ``self.grid(aoi, resolution)``.

        Each field holds at most about ``max_chunk_bytes`` of float32, so memory stays bounded however large the
        AOI. Chunks are square-ish blocks aligned to ``chunk_size`` so files are decoded once.
        """
        self.check_year(year)
        grid = self.grid(aoi, resolution)
        for window in chunk_windows(grid, self.chunk_size(max_chunk_bytes)):
            sub = subgrid(grid, window)
            yield window, mask_to_aoi(self.read_window(sub, year), aoi)

    def pooled_reads(self) -> AbstractContextManager:
        """Context for reads made by one thread of a pool that reads chunks in parallel: a file source decodes
        with one thread each there, since the pool already keeps every core busy."""
        return contextlib.nullcontext()

    def chunk_size(self, max_chunk_bytes: int) -> int:
        """Side of square chunks in pixels: a multiple of the files' block size when there is one."""
        side = int(math.sqrt(max_chunk_bytes / FIELD_BYTES_PER_PIXEL))
        return max(64, side)


def subgrid(grid: Grid, window: Window) -> Grid:
    """The part of ``grid`` covered by an integer ``window``."""
    transform = grid.transform @ Affine.translation(window.col_off, window.row_off)
    return Grid(transform, int(window.width), int(window.height), grid.crs)


def chunk_windows(grid: Grid, side: int) -> Iterator[Window]:
    """Square windows of ``side`` pixels (smaller at the edges) covering the grid row by row."""
    for row in range(0, grid.height, side):
        for col in range(0, grid.width, side):
            yield Window(col, row, min(side, grid.width - col), min(side, grid.height - row))


def mask_to_aoi(field: EmbeddingField, aoi: AOI | None) -> EmbeddingField:
    """The field with pixels outside the AOI masked out (NaN values, mask False)."""
    if aoi is None:
        return field
    inside = aoi.mask(field.grid)
    if inside.all():
        return field
    mask = field.mask & inside
    values = field.values
    values[~mask] = np.nan  # values was read for this call only, so editing it in place is safe
    return EmbeddingField(values=values, mask=mask, grid=field.grid, year=field.year)
