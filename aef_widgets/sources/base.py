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
from ..core.errors import TooLargeError, YearError
from ..core.field import BandField, EmbeddingField
from ..core.grid import Footprint, Grid

ATTRIBUTION = "The AlphaEarth Foundations Satellite Embedding dataset is produced by Google and Google DeepMind."
#: Float32 bytes per pixel of a field (64 bands); chunks are sized from it.
FIELD_BYTES_PER_PIXEL = 64 * 4
#: Largest field one ``read`` or ``read_window`` returns in one piece: 4 GiB, about 16.7 Mpx of 64 float32 bands.
MAX_READ_BYTES = 4 * 2**30


class EmbeddingSource(ABC):
    """Where embeddings come from: the years it has, where it has them, and reads of AOIs and points."""

    #: Human-readable name shown in the apps.
    name: str = "embeddings"
    #: Credit line shown on every map of this source.
    attribution: str = ATTRIBUTION
    #: True for generated data that only imitates the real dataset.
    synthetic: bool = False
    #: Largest field a read returns in one piece, in bytes; larger reads raise ``TooLargeError`` before reading.
    max_read_bytes: int = MAX_READ_BYTES
    #: True when reads cross a network (each round trip costs a latency) and the files carry overviews: a coarse
    #: first picture of a view then costs a few percent of its bytes, and a map shows one before the full read.
    remote_overviews: bool = False

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
    def read_bands(self, grid: Grid, year: int, bands: Sequence[int]) -> BandField:
        """Some bands (0-based indexes of A00..A63) of ``year`` on exactly ``grid``: what a band composite draws.

        File sources read only those bands (3 of 64 on band-separate files); others read all and keep these.
        """
        return self.read_window(grid, year).select(tuple(int(b) for b in bands))

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
        self.check_size(grid)
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
        for window in self.chunk_windows(grid, max_chunk_bytes):
            sub = subgrid(grid, window)
            yield window, mask_to_aoi(self.read_window(sub, year), aoi)

    def pooled_reads(self) -> AbstractContextManager:
        """Context for reads made by one thread of a pool that reads chunks in parallel: a file source decodes
        with one thread each there, since the pool already keeps every core busy."""
        return contextlib.nullcontext()

    def check_size(self, grid: Grid) -> None:
        """Raise ``TooLargeError`` with the numbers and what to do when a field on ``grid`` exceeds ``max_read_bytes``.

        Every read checks before it allocates, so a huge AOI is refused in words instead of ending in numpy's
        "Unable to allocate 22.5 TiB" (or in the kernel being killed).
        """
        check_field_size(grid, self.max_read_bytes)

    def chunk_size(self, max_chunk_bytes: int) -> int:
        """Side of square chunks in pixels: a multiple of the files' block size when there is one."""
        side = int(math.sqrt(max_chunk_bytes / FIELD_BYTES_PER_PIXEL))
        return max(64, side)

    def chunk_windows(self, grid: Grid, max_chunk_bytes: int) -> list[Window]:
        """Windows of about ``max_chunk_bytes`` of float32 each tiling ``grid``; file sources lay them on their
        files' tile lattice, so each tile is decoded by one chunk only."""
        return list(chunk_windows(grid, self.chunk_size(max_chunk_bytes)))


def field_bytes(grid: Grid) -> int:
    """Memory a field on ``grid`` takes: 64 float32 values and a mask byte per pixel."""
    return grid.width * grid.height * (FIELD_BYTES_PER_PIXEL + 1)


def check_field_size(grid: Grid, max_bytes: int) -> None:
    """``TooLargeError`` when a field on ``grid`` would take more than ``max_bytes``, saying what to do instead."""
    need = field_bytes(grid)
    if need <= max_bytes:
        return
    factor = 2 ** math.ceil(math.log2(math.sqrt(need / max_bytes)))  # the power-of-two coarsening that fits
    raise TooLargeError(
        f"reading {grid.width:,} x {grid.height:,} pixels ({_count(grid.width * grid.height)} at "
        f"{grid.resolution_text}) would take {_size(need)} of memory; the limit is {_size(max_bytes)}. Choose a "
        f"smaller AOI, a coarser resolution (at least {factor}x coarser, resolution={grid.resolution * factor:g}), "
        "read it chunk by chunk with stream() or cluster_grid(), or compute it on Earth Engine"
    )


def _count(pixels: int) -> str:
    return f"{pixels / 1e6:,.1f} Mpx" if pixels >= 100_000 else f"{pixels:,} px"


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def subgrid(grid: Grid, window: Window) -> Grid:
    """The part of ``grid`` covered by an integer ``window``."""
    transform = grid.transform @ Affine.translation(window.col_off, window.row_off)
    return Grid(transform, int(window.width), int(window.height), grid.crs)


def chunk_windows(grid: Grid, side: int, offset: tuple[int, int] = (0, 0)) -> Iterator[Window]:
    """Square windows of ``side`` pixels covering the grid row by row, their edges on the lines ``offset`` (row,
    col) + multiples of ``side`` (a file's tile lattice), so windows at the grid's edges may be smaller."""
    rows = _edges(grid.height, side, offset[0])
    cols = _edges(grid.width, side, offset[1])
    for r0, r1 in zip(rows[:-1], rows[1:]):
        for c0, c1 in zip(cols[:-1], cols[1:]):
            yield Window(c0, r0, c1 - c0, r1 - r0)


def _edges(size: int, side: int, offset: int) -> list[int]:
    first = offset % side
    return [0, *range(first or side, size, side), size] if size > (first or side) else [0, size]


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
