"""Embeddings from GeoTIFFs: local paths or URLs, one file or a mosaic of several per year.

Reads come out on a north-up grid in the CRS of the first file, aligned to its pixels. Where a file shares that
grid, pixels are read directly (from overviews when coarser); where it does not (another UTM zone, another
alignment), GDAL's warper resamples it with nearest neighbour so values stay true embeddings.
"""

from __future__ import annotations

import functools
import glob
import math
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from os import PathLike

import numpy as np
import rasterio
from affine import Affine
from pyproj import Transformer
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from ..core.aoi import AOI
from ..core.bands import N_BANDS
from ..core.errors import NoDataError, SourceError
from ..core.field import EmbeddingField
from ..core.grid import LONLAT, Footprint, Grid, transform_bounds
from .base import ATTRIBUTION, FIELD_BYTES_PER_PIXEL, EmbeddingSource, subgrid
from .rasterfile import RasterFile, decode_threads, gdal_env, inspect_file, parallel_reads

PathSpec = str | PathLike | Sequence[str | PathLike]
#: Tolerance, in pixels, for deciding that two grids are aligned.
_ALIGN_TOL = 1e-6
_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


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
        self.name = name or os.path.basename(first.path)
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
            a_left, a_bottom, a_right, a_top = aoi.bounds_in(self._crs)
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

    def read_window(self, grid: Grid, year: int) -> EmbeddingField:
        self.check_year(year)
        # left uninitialised: the first file usually covers the grid and is read straight into it; whatever no
        # file filled is set to NaN at the end, which saves a pass over the whole buffer
        values = np.empty((*grid.shape, N_BANDS), dtype=np.float32)
        mask = np.zeros(grid.shape, dtype=bool)
        with gdal_env():
            for f in self.files[year]:
                if _overlaps(f, grid):
                    _paste(f, grid, values, mask)
        values[~mask] = np.nan
        return EmbeddingField(values=values, mask=mask, grid=grid, year=year)

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
                with rasterio.open(f.path) as ds:
                    for i, r, c in zip(np.flatnonzero(todo), np.floor(rows), np.floor(cols)):
                        if 0 <= r < f.height and 0 <= c < f.width:
                            data = ds.read(f.band_indexes, window=Window(int(c), int(r), 1, 1))
                            vec, ok = f.decode(data)
                            if ok[0, 0]:
                                out[i] = vec[0, 0]
                                todo[i] = False
        return out

    def chunk_size(self, max_chunk_bytes: int) -> int:
        block = max(f.block for fs in self.files.values() for f in fs)
        if not block:
            return super().chunk_size(max_chunk_bytes)
        side = int(math.sqrt(max_chunk_bytes / FIELD_BYTES_PER_PIXEL))
        return max(block, side // block * block)


def open_source(
    paths: PathSpec | Mapping[int, PathSpec],
    years: Sequence[int] | None = None,
    *,
    name: str | None = None,
    attribution: str | None = None,
    synthetic: bool = False,
) -> GeoTIFFSource:
    """Open AEF embeddings stored as GeoTIFFs.

    ``paths`` is a file, a URL (``https://``, ``s3://``, ``gs://`` or any GDAL ``/vsi`` path), a folder, a glob
    pattern, a list of these, or a mapping ``{year: path(s)}``. Without a mapping, each file's year comes from
    its ``YEAR`` tag or a year in its name; ``years`` may instead list them in the order of ``paths``. Several
    files of one year form a mosaic.
    """
    by_year: dict[int, list[RasterFile]] = {}
    if isinstance(paths, Mapping):
        if years is not None:
            raise TypeError("give years either as a mapping or in `years`, not both")
        for year, spec in paths.items():
            by_year.setdefault(int(year), []).extend(inspect_file(p, int(year)) for p in _expand(spec))
    else:
        expanded = _expand(paths)
        if years is not None and len(years) != len(expanded):
            raise SourceError(f"{len(years)} years given for {len(expanded)} files")
        for i, p in enumerate(expanded):
            f = inspect_file(p, None if years is None else int(years[i]))
            if f.year is None:
                raise SourceError(
                    f"cannot tell the year of {p}: name it with the year (e.g. aef_2024.tif), set a YEAR tag, "
                    "or pass a mapping such as open_source({2024: path})"
                )
            by_year.setdefault(f.year, []).append(f)
    return GeoTIFFSource(by_year, name=name, attribution=attribution, synthetic=synthetic)


def _expand(spec: PathSpec) -> list[str]:
    """Files named by a path, URL, folder, glob pattern or list of these."""
    if isinstance(spec, (str, PathLike)):
        text = os.fspath(spec)
        if "://" in text or text.startswith("/vsi"):
            return [text]
        if os.path.isdir(text):
            patterns = (os.path.join(text, "**", f"*.{ext}") for ext in ("tif", "tiff", "TIF", "TIFF"))
            found = sorted(p for pattern in patterns for p in glob.glob(pattern, recursive=True))
            if not found:
                raise SourceError(f"no GeoTIFF files in folder {text}")
            return found
        if glob.has_magic(text):
            found = sorted(glob.glob(text, recursive=True))
            if not found:
                raise SourceError(f"no files match {text}")
            return found
        if not os.path.exists(text):
            raise SourceError(f"no such file: {text}")
        return [text]
    out = [p for item in spec for p in _expand(item)]
    if not out:
        raise SourceError("no files given")
    return out


@functools.lru_cache(maxsize=16)
def _from_lonlat(crs: CRS) -> Transformer:
    """Lon/lat to a file's CRS; built once per CRS, since building one costs more than a click's pixel read."""
    return Transformer.from_crs(LONLAT, crs, always_xy=True)


def _overlaps(f: RasterFile, grid: Grid) -> bool:
    left, bottom, right, top = transform_bounds(f.bounds, f.crs, grid.crs)
    g_left, g_bottom, g_right, g_top = grid.bounds
    return left < g_right and right > g_left and bottom < g_top and top > g_bottom


def _paste(f: RasterFile, grid: Grid, values: np.ndarray, mask: np.ndarray) -> None:
    """Fill the still-empty pixels of ``values``/``mask`` from one file (first file wins in a mosaic)."""
    if _paste_overview(f, grid, values, mask):
        return
    with rasterio.open(f.path) as ds:
        direct = _direct_window(f, grid)
        if direct is None:
            _fill(values, mask, slice(0, grid.height), slice(0, grid.width), *_warp(ds, f, grid))
            return
        rows, cols, window, k, edges = direct
        if f.reads_pixel_first and (rows.stop - rows.start, cols.stop - cols.start) == grid.shape and not mask.any():
            mask |= _read_vectors(f, ds, window, values)  # the usual case: one file covers the grid, read in place
            return
        if f.reads_pixel_first:
            new_values = np.empty((rows.stop - rows.start, cols.stop - cols.start, N_BANDS), dtype=np.float32)
            new_valid = _read_vectors(f, ds, window, new_values)
        elif f.bottom_up and k > 1 and not (k in f.overview_factors and f.height % k == 0):
            # GDAL's nearest decimation picks the pixel below the centre of an even block; counted from the
            # bottom that is a different row than from the top, so pick the top-down pixel ourselves
            data = ds.read(f.band_indexes, window=window)[:, ::-1, :][:, k // 2 :: k, k // 2 :: k]
            new_values, new_valid = f.decode(data)
        else:
            shape = (N_BANDS, rows.stop - rows.start, cols.stop - cols.start)
            data = ds.read(f.band_indexes, window=window, out_shape=shape, resampling=Resampling.nearest)
            new_values, new_valid = f.decode(data[:, ::-1, :] if f.bottom_up else data)
        _fill(values, mask, rows, cols, new_values, new_valid)
        for edge in edges:  # grid pixels the file covers only in part: few, so the warper's cost does not matter
            edge_rows, edge_cols = edge.toslices()
            _fill(values, mask, edge_rows, edge_cols, *_warp(ds, f, subgrid(grid, edge)))


def _paste_overview(f: RasterFile, grid: Grid, values: np.ndarray, mask: np.ndarray) -> bool:
    """Read a grid whose pixels are exactly the pixels of one of the file's overviews straight from that overview.

    Unlike a decimated read of the full-resolution window, this covers the partial blocks at the file's right and
    bottom edges too (overviews have ceil(size / k) pixels), with the overview's own pixels there. False when the
    grid is not such a grid, and the caller reads another way.
    """
    aligned = _alignment(f, grid)
    if aligned is None or not f.reads_pixel_first:
        return False
    off_x, off_y, k = aligned
    if k == 1 or k not in f.overview_factors or off_x % k or off_y % k:
        return False
    level = f.overview_factors.index(k)
    with rasterio.open(f.path, overview_level=level) as ds:
        if (ds.width, ds.height) != (math.ceil(f.width / k), math.ceil(f.height / k)):
            return False  # an overview of unexpected size: not pixel for pixel
        ox, oy = off_x // k, off_y // k  # the overview pixel under the grid's first pixel
        c0, c1 = max(0, -ox), min(grid.width, ds.width - ox)
        r0, r1 = max(0, -oy), min(grid.height, ds.height - oy)
        if c0 >= c1 or r0 >= r1:
            return True  # nothing of this file on the grid
        window = Window(ox + c0, oy + r0, c1 - c0, r1 - r0)
        if (r1 - r0, c1 - c0) == grid.shape and not mask.any():
            mask |= _read_vectors(f, ds, window, values, level)
            return True
        new_values = np.empty((r1 - r0, c1 - c0, N_BANDS), dtype=np.float32)
        _fill(values, mask, slice(r0, r1), slice(c0, c1), new_values, _read_vectors(f, ds, window, new_values, level))
    return True


def _read_vectors(
    f: RasterFile, ds: rasterio.DatasetReader, window: Window, out: np.ndarray, level: int | None = None
) -> np.ndarray:
    """``f.read_vectors`` of a large window split into bands of whole tile rows, one thread per core.

    A single read decodes on one core whatever GDAL_NUM_THREADS says (measured: the same time with 1 or all
    threads for a view-sized overview read), and first touching a fresh 100 MB output costs as much again;
    bands in threads do both in parallel. Only for reads not already made in parallel by the caller.
    """
    block = f.block or 256
    rows = out.shape[0]
    n = min(_CORES, rows // block)
    if n < 2 or parallel_reads() or out.shape[:2] != (window.height, window.width):
        return f.read_vectors(ds, window, out)
    edges = [0, *(round(rows * i / n / block) * block for i in range(1, n)), rows]  # tile-row aligned
    valid = np.empty(out.shape[:2], dtype=bool)
    options = {} if level is None else {"overview_level": level}

    def read(a: int, b: int) -> None:
        band = Window(window.col_off, window.row_off + a, window.width, b - a)
        with decode_threads(1), gdal_env(), rasterio.open(f.path, **options) as own:  # datasets are per thread
            valid[a:b] = f.read_vectors(own, band, out[a:b])

    with ThreadPoolExecutor(n, thread_name_prefix="aef-read") as pool:
        list(pool.map(read, edges[:-1], edges[1:]))
    return valid


def _fill(values: np.ndarray, mask: np.ndarray, rows: slice, cols: slice, new: np.ndarray, valid: np.ndarray) -> None:
    """Copy the valid ``new`` vectors into the pixels of ``values[rows, cols]`` that are still empty."""
    if not mask[rows, cols].any():  # nothing there yet: a plain copy, cheaper than a masked one
        values[rows, cols] = new
        mask[rows, cols] = valid
        return
    fill = valid & ~mask[rows, cols]
    values[rows, cols][fill] = new[fill]
    mask[rows, cols] |= fill


def _warp(ds: rasterio.DatasetReader, f: RasterFile, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Vectors of a file on any grid, by GDAL's warper with nearest neighbour (so values stay true embeddings)."""
    with WarpedVRT(
        ds,
        crs=grid.crs,
        transform=grid.transform,
        width=grid.width,
        height=grid.height,
        resampling=Resampling.nearest,
        nodata=f.nodata if f.encoding == "int8" else np.nan,
    ) as vrt:
        data = vrt.read(f.band_indexes).astype(ds.dtypes[0], copy=False)  # int8 warps as int16
    return f.decode(data)


def _direct_window(f: RasterFile, grid: Grid) -> tuple[slice, slice, Window, int, list[Window]] | None:
    """Grid pixels that are whole k x k blocks of this file's pixels, the file window holding them, k, and the
    grid windows (at most one pixel wide) of the pixels the file covers only in part, at the interior's edges.

    None when the file is in another CRS or alignment, or covers no grid pixel whole: then the warper does the
    work. Edge pixels are warped on their own so that a view whose size is not a multiple of k still reads its
    interior directly, from overviews: warping the whole grid instead took seconds for a 1000 x 500 px view.
    """
    aligned = _alignment(f, grid)
    if aligned is None:
        return None
    off_x, off_y, k = aligned
    # grid pixels lying wholly inside the file, and those touching it at all
    c0, c1 = max(0, math.ceil(-off_x / k)), min(grid.width, (f.width - off_x) // k)
    r0, r1 = max(0, math.ceil(-off_y / k)), min(grid.height, (f.height - off_y) // k)
    if c0 >= c1 or r0 >= r1:
        return None
    ca, cb = max(0, -off_x // k), min(grid.width, math.ceil((f.width - off_x) / k))
    ra, rb = max(0, -off_y // k), min(grid.height, math.ceil((f.height - off_y) / k))
    edges = [
        Window(ca, ra, cb - ca, r0 - ra),  # above the interior, full width
        Window(ca, r1, cb - ca, rb - r1),  # below
        Window(ca, r0, c0 - ca, r1 - r0),  # left of it
        Window(c1, r0, cb - c1, r1 - r0),  # right of it
    ]
    col_off, row_off = off_x + c0 * k, off_y + r0 * k
    height = (r1 - r0) * k
    if f.bottom_up:
        row_off = f.height - row_off - height
    window = Window(col_off, row_off, (c1 - c0) * k, height)
    return slice(r0, r1), slice(c0, c1), window, k, [e for e in edges if e.width > 0 and e.height > 0]


def _alignment(f: RasterFile, grid: Grid) -> tuple[int, int, int] | None:
    """(col, row) of the grid's top-left corner in file pixels, and grid pixels' size in file pixels, when the
    grid lies on the file's pixel lattice in the same CRS; else None."""
    if f.crs != grid.crs:
        return None
    factor = grid.resolution / f.resolution
    k = round(factor)
    f_left, _, _, f_top = f.bounds
    g_left, _, _, g_top = grid.bounds
    off_x = (g_left - f_left) / f.resolution
    off_y = (f_top - g_top) / f.resolution
    if abs(factor - k) > _ALIGN_TOL or abs(off_x - round(off_x)) > 1e-3 or abs(off_y - round(off_y)) > 1e-3:
        return None
    return round(off_x), round(off_y), k
