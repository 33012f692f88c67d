"""Float files are read band-first a tile at a time and interleaved here (``rasterfile._read_float_interleaved``):
the values and mask must be exactly those of GDAL writing pixel-first vectors itself, for any window.

The file is laid out as ``geemap.download_ee_image`` writes it through geedim (float64, deflate, band-interleaved
256 px tiles, -inf nodata: ``benchmarks.data.GEEDIM_PROFILE``, from geedim's own export profile), here with 64 px
tiles so a small file spans several tiles.
"""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.enums import Resampling
from rasterio.transform import from_origin
from rasterio.windows import Window

from aef_widgets.sources.gdal_env import gdal_env
from aef_widgets.sources.rasterfile import finish_vectors, inspect_file
from benchmarks.data import GEEDIM_PROFILE


@pytest.fixture()
def float_file(tmp_path):
    rng = np.random.default_rng(3)
    rows, cols = 200, 330
    data = rng.normal(size=(64, rows, cols))
    data /= np.linalg.norm(data, axis=0)
    data[:, 10:20, 30:45] = -np.inf  # geedim's nodata
    data[7, 150, 300] = np.nan  # one band missing is no data too
    data[:, 100, 100] = 0  # an all-zero vector is a gap
    path = tmp_path / "geedim_2024.tif"
    profile = GEEDIM_PROFILE | {"blockxsize": 64, "blockysize": 64, "crs": "EPSG:32610", "count": 64}
    with rasterio.open(
        path, "w", width=cols, height=rows, transform=from_origin(500000, 4200000, 10, 10), **profile
    ) as ds:
        ds.write(data)
    return path


@pytest.mark.parametrize(
    "window",
    [
        Window(0, 0, 330, 200),
        Window(0, 0, 64, 64),
        Window(37, 13, 200, 150),  # across tiles, not aligned to them
        Window(329, 199, 1, 1),
        Window(60, 5, 9, 190),
        Window(5, 60, 300, 7),
    ],
)
def test_float_window_equals_gdal_pixel_first_read(float_file, window):
    f = inspect_file(str(float_file))
    assert f.encoding == "float" and f.block == 64
    with gdal_env(), rasterio.open(float_file) as ds:
        out = np.empty((window.height, window.width, 64), np.float32)
        valid = f.read_vectors(ds, window, out)
        expected = np.empty_like(out)
        ds.read(f.band_indexes, window=window, out=np.moveaxis(expected, -1, 0), resampling=Resampling.nearest)
    expected_valid = finish_vectors(expected.reshape(-1, 64)).reshape(expected.shape[:2])
    np.testing.assert_array_equal(valid, expected_valid)
    np.testing.assert_array_equal(out, expected)  # NaN where invalid in both


def test_whole_file_nodata_is_never_data(float_file):
    f = inspect_file(str(float_file))
    with gdal_env(), rasterio.open(float_file) as ds:
        out = np.empty((200, 330, 64), np.float32)
        valid = f.read_vectors(ds, Window(0, 0, 330, 200), out)
    assert not valid[10:20, 30:45].any() and not valid[150, 300] and not valid[100, 100]
    assert valid.sum() == 200 * 330 - 150 - 2
    assert np.isnan(out[~valid]).all() and np.isfinite(out[valid]).all()
