"""Views read again from kept codes (``sources/code_store.py``): the same values and mask as a direct read, no second
decode of the file, a rewritten file read again, and the bound kept.

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


def direct(path: Path) -> tuple[np.ndarray, np.ndarray]:
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
    values, valid = direct(tiled_int8)
    for field in (first, again):
        np.testing.assert_array_equal(field.mask, valid)
        np.testing.assert_array_equal(field.values, values)
    tiles = tile_bytes(tiled_int8)
    assert first_bytes > tiles  # the first read read every tile (and the header, once a dataset is opened)
    assert again_bytes < tiles / 2  # the second opened the file (35 KB of header a dataset here) and read no tile
    assert 0 < code_store.held_bytes() <= code_store.MAX_BYTES


def test_a_rewritten_file_is_read_again(tiled_int8):
    source = open_source({2024: tiled_int8})
    grid = source.grid()
    read_counting(source, grid)
    with rasterio.open(tiled_int8, "r+") as ds:
        ds.write(np.roll(ds.read(), 1, axis=0))  # every pixel's bands shifted by one
    st = os.stat(tiled_int8)
    os.utime(tiled_int8, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a clock too coarse must not hide it
    field, _ = read_counting(open_source({2024: tiled_int8}), grid)
    values, valid = direct(tiled_int8)
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
