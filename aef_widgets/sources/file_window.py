"""Reading one GeoTIFF's pixels onto a grid: directly where the grid lies on the file's pixel lattice (from an
overview when the grid matches one), through GDAL's warper with nearest neighbour elsewhere.

Bottom-up files are read and flipped. GDAL's nearest decimation of an even block picks the pixel below its
centre, which counted from the bottom is another row, so bottom-up files without a matching overview are decimated
here instead.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from ..core.execution import scoped
from ..core.grid import Grid
from .base import subgrid
from .gdal_env import decode_threads, gdal_env, parallel_reads
from .rasterfile import RasterFile

#: Tolerance, in pixels, for deciding that two grids are aligned.
_ALIGN_TOL = 1e-6
#: Band groups a remote band-separate file is fetched in, side by side (see ``read_codes``).
REMOTE_BAND_GROUPS = 16
#: Most file bytes read at once when decimating a bottom-up file without a matching overview.
_STRIP_BYTES = 64 * 2**20
_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def paste(f: RasterFile, grid: Grid, values: np.ndarray, mask: np.ndarray) -> None:
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
            shape = (rows.stop - rows.start, cols.stop - cols.start, len(f.band_indexes))
            new_values = np.empty(shape, dtype=np.float32)
            new_valid = _read_vectors(f, ds, window, new_values)
        elif f.bottom_up and k > 1 and not (k in f.overview_factors and f.height % k == 0):
            # GDAL's nearest decimation picks the pixel below the centre of an even block; counted from the
            # bottom that is a different row than from the top, so pick the top-down pixel ourselves
            new_values, new_valid = _decimate_bottom_up(f, ds, window, k)
        else:
            shape = (len(f.band_indexes), rows.stop - rows.start, cols.stop - cols.start)
            data = read_codes(f, ds, window, shape)
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
        new_values = np.empty((r1 - r0, c1 - c0, len(f.band_indexes)), dtype=np.float32)
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
    if f.remote and f.band_separate:  # the network bounds this read: fetch band groups side by side, then decode
        codes = read_codes(f, ds, window, (len(f.band_indexes), *out.shape[:2]), level)
        values, valid = f.decode(codes)
        out[...] = values
        return valid
    block = f.block or 256
    rows = out.shape[0]
    n = min(_CORES, rows // block)
    if n < 2 or parallel_reads() or out.shape[:2] != (window.height, window.width):
        return f.read_vectors(ds, window, out)
    edges = [0, *(round(rows * i / n / block) * block for i in range(1, n)), rows]  # tile-row aligned
    valid = np.empty(out.shape[:2], dtype=bool)

    def read(a: int, b: int) -> None:
        band = Window(window.col_off, window.row_off + a, window.width, b - a)
        with _own_dataset(f, level) as own:
            valid[a:b] = f.read_vectors(own, band, out[a:b])

    _in_threads(read, list(zip(edges[:-1], edges[1:])))
    return valid


def read_codes(
    f: RasterFile, ds: rasterio.DatasetReader, window: Window, shape: tuple[int, int, int], level: int | None = None
) -> np.ndarray:
    """File values (bands, rows, cols) of a window, read to ``shape`` (nearest), as ``ds.read`` would.

    A remote band-separate file's bands are fetched in groups side by side: GDAL fetches one band's tiles at a time,
    so 64 bands are 64 round trips one after another (measured at 50 ms a request and 25 MB/s: 17 s for a 10 m
    view's 146 MB in one read, 7 s in 8 groups, the transfer itself taking 5.8 s).
    """
    if not (f.remote and f.band_separate and len(f.band_indexes) > 1):
        return ds.read(f.band_indexes, window=window, out_shape=shape, resampling=Resampling.nearest)
    out = np.empty(shape, dtype=ds.dtypes[0])
    groups = np.array_split(np.arange(len(f.band_indexes)), min(REMOTE_BAND_GROUPS, len(f.band_indexes)))

    def read(group: np.ndarray) -> None:
        a, b = int(group[0]), int(group[-1]) + 1
        with _own_dataset(f, level) as own:
            own.read(f.band_indexes[a:b], window=window, out=out[a:b], resampling=Resampling.nearest)

    _in_threads(read, [(g,) for g in groups])
    return out


@contextmanager
def _own_dataset(f: RasterFile, level: int | None) -> Iterator[rasterio.DatasetReader]:
    """The file opened by this thread (datasets are per thread), decoding with one GDAL thread."""
    options = {} if level is None else {"overview_level": level}
    with decode_threads(1), gdal_env(), rasterio.open(f.path, **options) as own:
        yield own


def _in_threads(task: Callable[..., None], args: list[tuple]) -> None:
    """``task(*a)`` for every ``a``, each in a thread of its own, all finished (or the first error raised) on return."""
    with scoped(len(args), "aef-read") as pool:
        for future in [pool.submit(task, *a) for a in args]:
            future.result()


def _decimate_bottom_up(
    f: RasterFile, ds: rasterio.DatasetReader, window: Window, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every k-th pixel (the top-down centre of each k x k block) of a bottom-up file's window, read in strips.

    Reading the whole full-resolution window first would take k² times the output: 16 GiB for a 1024 px view of
    a 16k px file without overviews. Strips of whole blocks keep it to about ``_STRIP_BYTES`` at a time.
    """
    rows, cols = window.height // k, window.width // k
    values = np.empty((rows, cols, len(f.band_indexes)), dtype=np.float32)
    valid = np.empty((rows, cols), dtype=bool)
    per_row = k * window.width * len(f.band_indexes) * np.dtype(ds.dtypes[0]).itemsize  # file bytes of one output row
    step = max(1, _STRIP_BYTES // per_row)
    bottom = window.row_off + window.height  # file row below the window; output row 0 is at the top
    for j0 in range(0, rows, step):
        j1 = min(rows, j0 + step)
        strip = Window(window.col_off, bottom - j1 * k, window.width, (j1 - j0) * k)
        data = ds.read(f.band_indexes, window=strip)[:, ::-1, :][:, k // 2 :: k, k // 2 :: k]
        values[j0:j1], valid[j0:j1] = f.decode(data)
    return values, valid


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


def tile_lattice(f: RasterFile, grid: Grid) -> tuple[int, int] | None:
    """(row, col) of a grid pixel whose top-left corner is a corner of one of the file's tiles, at the level the
    grid reads (full resolution, or the overview of its pixel size), so chunks laid on it decode each tile once.

    None when the grid is not on the file's pixel lattice or the file is not tiled. A bottom-up file's tiles are
    counted from its bottom row.
    """
    aligned = _alignment(f, grid)
    if aligned is None or not f.block:
        return None
    off_x, off_y, k = aligned
    if k > 1 and (k not in f.overview_factors or off_x % k or off_y % k):
        return None  # read by decimation or the warper: no one tile lattice to follow
    height = math.ceil(f.height / k)
    first_row = (height if f.bottom_up else 0) - off_y // k  # a tile edge, in grid rows
    return first_row % f.block, -(off_x // k) % f.block


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
