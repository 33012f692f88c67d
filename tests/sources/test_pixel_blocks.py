"""Clicked pixels read through kept file blocks: the same vectors as a direct read, bounded, never stale."""

from __future__ import annotations

import os

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
def tiled_int8(tmp_path, real_int8):
    with rasterio.open(real_int8) as ds:
        data = ds.read()
    return write_like(tmp_path / "tiled.tif", real_int8, data, tiled=True, blockxsize=32, blockysize=32)


@pytest.fixture(autouse=True)
def empty_cache():
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


def test_a_rewritten_file_is_read_again(tiled_int8, real_int8):
    source = open_source({2024: tiled_int8})
    point = lonlat_of(tiled_int8, [10], [10])
    before = source.sample(point, 2024)
    with rasterio.open(tiled_int8, "r+") as ds:
        data = ds.read()
        data[:, 10, 10] = np.roll(data[:, 10, 10], 1)
        ds.write(data)
    st = os.stat(tiled_int8)
    os.utime(tiled_int8, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a clock too coarse must not hide it
    after = open_source({2024: tiled_int8}).sample(point, 2024)
    np.testing.assert_allclose(after[0], np.roll(before[0], 1), rtol=1e-6)
