"""Embeddings from GeoTIFFs: local paths or URLs, one file or a mosaic of several per year.

Reads come out on a north-up grid in the CRS of the first file, aligned to its pixels. Where a file shares that
grid, pixels are read directly (from overviews when coarser); where it does not (another UTM zone, another
alignment), GDAL's warper resamples it with nearest neighbour so values stay true embeddings.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
from collections.abc import Callable, Mapping, Sequence
from os import PathLike

import numpy as np
import rasterio
from affine import Affine
from pyproj import Transformer
from rasterio.crs import CRS
from rasterio.windows import Window

from ..core.aoi import AOI
from ..core.bands import N_BANDS
from ..core.errors import AOIError, NoDataError, SourceError, TooLargeError
from ..core.field import BandField, EmbeddingField
from ..core.grid import LONLAT, Footprint, Grid, transform_bounds
from .base import ATTRIBUTION, FIELD_BYTES_PER_PIXEL, EmbeddingSource, chunk_windows, field_bytes
from .code_store import read_pixel
from .file_window import paste, read_codes, tile_lattice
from .gdal_env import decode_threads, gdal_env, read_errors
from .rasterfile import RasterFile

PathSpec = str | PathLike | Sequence[str | PathLike]
#: Tolerance, in pixels, for deciding that two grids are aligned.
_ALIGN_TOL = 1e-6


#: GDAL threads per read in a pool of chunk readers: two is the fewest that turns on GDAL's multi-threaded decoding,
#: which writes a chunk's tiles straight into place instead of through the block cache (see ``CHUNK_BYTES``).
POOLED_DECODE_THREADS = 2


class GeoTIFFSource(EmbeddingSource):
    """Embeddings stored in GeoTIFF files, grouped by year."""

    def __init__(
        self,
        files: Mapping[int, Sequence[RasterFile]],
        *,
        name: str | None = None,
        attribution: str | None = None,
        synthetic: bool = False,
    ) -> None:
        if not files or not all(files.values()):
            raise SourceError("a GeoTIFF source needs at least one file")
        self.files = {int(y): tuple(fs) for y, fs in sorted(files.items())}
        first = next(iter(self.files.values()))[0]
        self.name = name or _default_name([f.path for fs in self.files.values() for f in fs])
        self.attribution = attribution or ATTRIBUTION
        self.synthetic = synthetic
        self._crs = first.crs
        self._resolution = first.resolution
        left, bottom, right, top = first.bounds
        self._origin = (left, top)
        all_bounds = [transform_bounds(f.bounds, f.crs, self._crs) for fs in self.files.values() for f in fs]
        b = np.array(all_bounds)
        self._footprint = Footprint((b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()), self._crs)

    def __repr__(self) -> str:
        n = sum(len(fs) for fs in self.files.values())
        return f"GeoTIFFSource({self.name!r}, years={list(self.years)}, files={n}, crs={self._crs.to_string()})"

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(self.files)

    @property
    def remote_overviews(self) -> bool:  # type: ignore[override]
        """Every file is read over a network and has overviews (a remote COG's usual layout)."""
        return all(f.remote and f.overview_factors for fs in self.files.values() for f in fs)

    @property
    def footprint(self) -> Footprint:
        return self._footprint

    @property
    def resolution(self) -> float:
        return self._resolution

    def grid(self, aoi: AOI | None = None, resolution: float | None = None) -> Grid:
        """Grid over the AOI (clipped to the footprint), in whole multiples of the native pixel size."""
        factor = 1 if resolution is None else max(1, round(resolution / self._resolution))
        res = self._resolution * factor
        left, bottom, right, top = self._footprint.bounds
        if aoi is not None:
            try:  # clipped to the footprint first: an AOI wider than a UTM zone projects to garbage outside it
                a_left, a_bottom, a_right, a_top = aoi.bounds_in(self._crs, within=self._footprint.lonlat_bounds())
            except AOIError:
                raise NoDataError(f"the AOI does not overlap {self.name}") from None
            left, bottom = max(left, a_left), max(bottom, a_bottom)
            right, top = min(right, a_right), min(top, a_top)
            if left >= right or bottom >= top:
                raise NoDataError(f"the AOI does not overlap {self.name}")
        x0, y0 = self._origin
        col0 = math.floor((left - x0) / res + _ALIGN_TOL)
        col1 = math.ceil((right - x0) / res - _ALIGN_TOL)
        row0 = math.floor((y0 - top) / res + _ALIGN_TOL)
        row1 = math.ceil((y0 - bottom) / res - _ALIGN_TOL)
        transform = Affine(res, 0, x0 + col0 * res, 0, -res, y0 - row0 * res)
        return Grid(transform, max(1, col1 - col0), max(1, row1 - row0), self._crs)

    def read_window(self, grid: Grid, year: int, out: np.ndarray | None = None) -> EmbeddingField:
        """The field on ``grid``, its values in the start of ``out`` (a flat float32 buffer of at least 64 values a
        pixel) when one is given: a stream reuses its chunks' memory instead of faulting in fresh pages for each."""
        values, mask = self._read(grid, year, None, out)
        return EmbeddingField(values=values, mask=mask, grid=grid, year=year)

    def read_bands(self, grid: Grid, year: int, bands: Sequence[int]) -> BandField:
        bands = tuple(int(b) for b in bands)
        values, mask = self._read(grid, year, bands)
        return BandField(values=values, mask=mask, grid=grid, bands=bands, year=year)

    def _read(
        self, grid: Grid, year: int, bands: tuple[int, ...] | None, out: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Values (rows, cols, bands) and mask of ``bands`` (all 64 for None) on the grid; only those are fetched."""
        self.check_year(year)
        self.check_size(grid)
        # left uninitialised: the first file usually covers the grid and is read straight into it; whatever no
        # file filled is set to NaN at the end, which saves a pass over the whole buffer
        try:
            shape = (*grid.shape, N_BANDS if bands is None else len(bands))
            size = shape[0] * shape[1] * shape[2]
            if out is not None and out.dtype == np.float32 and out.ndim == 1 and out.size >= size:
                values = out[:size].reshape(shape)
            else:
                values = np.empty(shape, dtype=np.float32)
            mask = np.zeros(grid.shape, dtype=bool)
        except MemoryError:  # under the limit, but more than this machine has free now
            need = field_bytes(grid) / 2**30
            raise TooLargeError(
                f"reading {grid.width:,} x {grid.height:,} pixels needs {need:,.1f} GB, more memory than is free; "
                "choose a smaller AOI or a coarser resolution, or read it chunk by chunk with stream()"
            ) from None
        with gdal_env():
            for f in self.files[year]:
                if _overlaps(f, grid):
                    with read_errors(f.path, year):
                        paste(f.subset(bands), grid, values, mask)
                    if mask.all():  # later files of a mosaic cannot add to a full grid: do not fetch them
                        break
        values[~mask] = np.nan
        return values, mask

    def sample(self, points: Sequence[tuple[float, float]], year: int) -> np.ndarray:
        self.check_year(year)
        lonlat = np.asarray(points, dtype=float).reshape(-1, 2)
        out = np.full((len(lonlat), N_BANDS), np.nan, dtype=np.float32)
        todo = np.ones(len(lonlat), dtype=bool)
        with gdal_env():
            for f in self.files[year]:
                if not todo.any():
                    break
                xs, ys = _from_lonlat(f.crs).transform(*lonlat[todo].T)
                cols, rows = ~f.transform @ (np.asarray(xs), np.asarray(ys))
                with read_errors(f.path, year), contextlib.ExitStack() as files:
                    dataset = _opener(files, f.path)

                    def read(window: Window, shape: tuple, f: RasterFile = f, dataset=dataset) -> np.ndarray:
                        return read_codes(f, dataset(), window, shape)  # opens the file only for a tile not kept

                    for i, r, c in zip(np.flatnonzero(todo), np.floor(rows), np.floor(cols)):
                        if 0 <= r < f.height and 0 <= c < f.width:
                            vec, ok = f.decode(read_pixel(f, int(r), int(c), read))
                            if ok[0, 0]:
                                out[i] = vec[0, 0]
                                todo[i] = False
        return out

    def pooled_reads(self):
        return decode_threads(POOLED_DECODE_THREADS)

    def chunk_size(self, max_chunk_bytes: int) -> int:
        return chunk_side(max(f.block for fs in self.files.values() for f in fs), max_chunk_bytes)

    def chunk_windows(self, grid: Grid, max_chunk_bytes: int) -> list[Window]:
        """Chunks on the tile lattice of the first file the grid lies on, so each of its tiles is decoded once."""
        side = self.chunk_size(max_chunk_bytes)
        lattice = next((o for fs in self.files.values() for f in fs if (o := tile_lattice(f, grid))), None)
        return list(chunk_windows(grid, side, lattice or (0, 0)))


def chunk_side(block: int, max_chunk_bytes: int) -> int:
    """Side of square chunks: whole tiles of ``block`` px (at least one, however large) within the budget."""
    side = int(math.sqrt(max_chunk_bytes / FIELD_BYTES_PER_PIXEL))
    return max(block, side // block * block) if block else max(64, side)


def _opener(files: contextlib.ExitStack, path: str) -> Callable[[], rasterio.DatasetReader]:
    """Opens ``path`` on the first call only (when a pixel's block is not kept already), closed with ``files``."""
    opened: list[rasterio.DatasetReader] = []

    def dataset() -> rasterio.DatasetReader:
        if not opened:
            opened.append(files.enter_context(rasterio.open(path)))
        return opened[0]

    return dataset


def _default_name(paths: list[str]) -> str:
    """A file's name, or for several files their folder's name and how many there are."""
    if len(paths) == 1:
        return os.path.basename(paths[0].rstrip("/"))
    try:
        folder = os.path.basename(os.path.commonpath([os.path.dirname(p) for p in paths]))
    except ValueError:  # local and remote paths mixed
        folder = ""
    return f"{folder or 'GeoTIFFs'} ({len(paths)} files)"


@functools.lru_cache(maxsize=16)
def _from_lonlat(crs: CRS) -> Transformer:
    """Lon/lat to a file's CRS; built once per CRS, since building one costs more than a click's pixel read."""
    return Transformer.from_crs(LONLAT, crs, always_xy=True)


def _overlaps(f: RasterFile, grid: Grid) -> bool:
    left, bottom, right, top = transform_bounds(f.bounds, f.crs, grid.crs)
    g_left, g_bottom, g_right, g_top = grid.bounds
    return left < g_right and right > g_left and bottom < g_top and top > g_bottom
