"""Decoded codes kept between reads (``sources/code_store.py``), bounded and never stale:

- clicked pixels read through kept file tiles give the same vectors as a direct read;
- views read again give the same values and mask as a direct read, without a second decode of the file.

Bytes read from the file are counted by the kernel (``rchar`` of ``/proc/self/io``: every ``read`` this process
makes), not by our own code. The file is the real AEF raster's int8 codes written pixel-interleaved in 32 px tiles,
as a GeoTIFF exported from Earth Engine is laid out (the bundled sample is the same layout in 256 px tiles).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.windows import Window

from aef_widgets import open_source
from aef_widgets.core.quantization import dequantize
from aef_widgets.sources import code_store
from tests.conftest import write_like


@pytest.fixture
def tiled_int8(tmp_path, real_int8) -> Path:
    with rasterio.open(real_int8) as ds:
        data = ds.read()
    return write_like(tmp_path / "tiled.tif", real_int8, data, tiled=True, blockxsize=32, blockysize=32)


@pytest.fixture(autouse=True)
def empty_store():
    code_store.clear()
    yield
    code_store.clear()


def lonlat_of(path, rows, cols):
    with rasterio.open(path) as ds:
        xs, ys = rasterio.transform.xy(ds.transform, rows, cols)
        to_lonlat = Transformer.from_crs(ds.crs, "EPSG:4326", always_xy=True)
    return list(zip(*to_lonlat.transform(xs, ys)))


def direct(path, row, col):
    """The reference: one pixel read alone by rasterio, dequantized as the dataset documents, NaN for nodata."""
    with rasterio.open(path) as ds:
        q = ds.read(window=Window(col, row, 1, 1))[:, 0, 0]
    return np.full(64, np.nan, np.float32) if (q == -128).any() else dequantize(q)


def test_samples_equal_direct_reads_and_repeat_clicks_reuse_the_block(tiled_int8):
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, 96, 40), rng.integers(0, 96, 40)
    source = open_source({2024: tiled_int8})
    got = source.sample(lonlat_of(tiled_int8, rows, cols), 2024)
    expected = np.stack([direct(tiled_int8, r, c) for r, c in zip(rows, cols)])
    np.testing.assert_allclose(got, expected, rtol=1e-6, equal_nan=True)
    # 40 pixels of a 96 px file in 32 px tiles: at most its 9 blocks were read and kept
    assert 1 <= code_store.entries() <= 9
    assert code_store.held_bytes() == sum(b.nbytes for b in code_store._kept.values())


def test_kept_blocks_stay_within_their_budget(tiled_int8, monkeypatch):
    block_bytes = 64 * 32 * 32
    monkeypatch.setattr(code_store, "MAX_BYTES", 3 * block_bytes)
    source = open_source({2024: tiled_int8})
    corners = [(r, c) for r in (0, 40, 80) for c in (0, 40, 80)]  # nine different blocks
    source.sample(lonlat_of(tiled_int8, *map(list, zip(*corners))), 2024)
    assert code_store.entries() == 3 and code_store.held_bytes() == 3 * block_bytes


def rewrite(path: Path, change) -> None:
    """Write ``change(codes)`` over the file's codes, and move its modification time on by a second."""
    with rasterio.open(path, "r+") as ds:
        ds.write(change(ds.read()))
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a clock too coarse must not hide it


def test_a_rewritten_file_is_clicked_again(tiled_int8):
    source = open_source({2024: tiled_int8})
    point = lonlat_of(tiled_int8, [10], [10])
    before = source.sample(point, 2024)

    def shift_one_pixel(data):
        data[:, 10, 10] = np.roll(data[:, 10, 10], 1)
        return data

    rewrite(tiled_int8, shift_one_pixel)
    after = open_source({2024: tiled_int8}).sample(point, 2024)
    np.testing.assert_allclose(after[0], np.roll(before[0], 1), rtol=1e-6)


# views: the windows their products read again -------------------------------------------------------------


def bytes_read() -> int:
    with open("/proc/self/io") as io:
        return int(next(line for line in io if line.startswith("rchar:")).split()[1])


def read_counting(source, grid):
    before = bytes_read()
    field = source.read_window(grid, 2024)
    return field, bytes_read() - before


def tile_bytes(path: Path) -> int:
    """Compressed bytes of all the file's tiles, as its header declares them (pixel-interleaved: one per position)."""
    with rasterio.open(path) as ds:
        rows, cols = -(-ds.height // 32), -(-ds.width // 32)
        return sum(ds.block_size(1, i, j) for i in range(rows) for j in range(cols))


def direct_view(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The reference: the whole file by plain rasterio, dequantized as the dataset documents, NaN for nodata."""
    with rasterio.open(path) as ds:
        codes = np.moveaxis(ds.read(), 0, -1)
    valid = ~(codes == -128).any(axis=-1) & (codes != 0).any(axis=-1)
    values = dequantize(codes)
    values[~valid] = np.nan
    return values, valid


def test_a_view_read_again_decodes_nothing_and_equals_a_direct_read(tiled_int8):
    source = open_source({2024: tiled_int8})
    grid = source.grid()
    first, first_bytes = read_counting(source, grid)
    again, again_bytes = read_counting(source, grid)
    values, valid = direct_view(tiled_int8)
    for field in (first, again):
        np.testing.assert_array_equal(field.mask, valid)
        np.testing.assert_array_equal(field.values, values)
    tiles = tile_bytes(tiled_int8)
    assert first_bytes > tiles  # the first read read every tile (and the header, once a dataset is opened)
    assert again_bytes < tiles / 2  # the second opened the file (35 KB of header a dataset here) and read no tile
    assert 0 < code_store.held_bytes() <= code_store.MAX_BYTES


def test_a_rewritten_file_is_viewed_again(tiled_int8):
    source = open_source({2024: tiled_int8})
    grid = source.grid()
    read_counting(source, grid)
    rewrite(tiled_int8, lambda data: np.roll(data, 1, axis=0))  # every pixel's bands shifted by one
    field, _ = read_counting(open_source({2024: tiled_int8}), grid)
    values, valid = direct_view(tiled_int8)
    np.testing.assert_array_equal(field.mask, valid)
    np.testing.assert_array_equal(field.values, values)


def test_a_window_over_half_the_bound_is_not_kept(tiled_int8, monkeypatch):
    source = open_source({2024: tiled_int8})
    grid = source.grid()
    codes_bytes = grid.width * grid.height * 64
    monkeypatch.setattr(code_store, "MAX_BYTES", codes_bytes // 2)  # each half of the view is more than a quarter
    first, first_bytes = read_counting(source, grid)
    again, again_bytes = read_counting(source, grid)
    assert code_store.held_bytes() == 0
    assert again_bytes > tile_bytes(tiled_int8)  # every tile read again
    np.testing.assert_array_equal(again.values, first.values)
