"""The optimisations made for the benchmarks give the answers of the code they replaced.

- k-means labels from one float32 product per chunk equal scikit-learn's ``predict`` on the same centres;
- reading vectors straight into place equals the band-first ``RasterFile.decode``;
- a coarse grid whose edge pixels the file covers only in part reads like the whole-grid warp it replaced;
- the threaded streaming cluster path equals the serial one.
"""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window
from sklearn.cluster import KMeans

from aef_widgets import EmbeddingKMeans, cluster_grid, open_source
from aef_widgets.core.field import EmbeddingField
from aef_widgets.core.grid import Grid
from aef_widgets.sources import file_window
from aef_widgets.sources.rasterfile import finish_vectors
from tests.conftest import REAL_FLOAT32, REAL_INT8, write_like


def tiled_field(values: np.ndarray, reps: int) -> EmbeddingField:
    """The real 96 x 96 field tiled ``reps`` times each way, with a few vectors nudged, so there are many pixels."""
    grid = open_source(REAL_INT8).grid()
    big = np.tile(values, (reps, reps, 1)).astype(np.float32)
    big += np.random.default_rng(0).normal(0, 0.01, big.shape).astype(np.float32)
    return EmbeddingField.from_values(big, Grid(grid.transform, grid.width * reps, grid.height * reps, grid.crs))


@pytest.mark.parametrize("k", [2, 5, 8, 13])
def test_gemm_labels_equal_scikit_learn_except_exact_ties(real_values, k):
    field = tiled_field(real_values, 4)
    model = EmbeddingKMeans(n_clusters=k, random_state=1, chunk_pixels=5000).fit(field)
    ours = model.predict(field)[field.mask]
    theirs = model.kmeans_.predict(field.valid_vectors())
    differ = np.flatnonzero(ours != theirs)
    if differ.size:  # only where two centres are equally near to within float32 rounding
        x = field.valid_vectors()[differ].astype(np.float64)
        c = model.cluster_centers_.astype(np.float64)
        d = ((x[:, None, :] - c[None]) ** 2).sum(-1)
        gap = np.abs(d[np.arange(len(differ)), ours[differ]] - d[np.arange(len(differ)), theirs[differ]])
        assert (gap < 1e-5).all()
    assert differ.size <= 1e-4 * ours.size


def test_gemm_labels_equal_scikit_learn_on_centres_it_fitted_itself(real_values):
    vectors = real_values.reshape(-1, 64).astype(np.float32)
    reference = KMeans(6, n_init="auto", random_state=0).fit(vectors[::7])
    model = EmbeddingKMeans(n_clusters=6).fit(vectors[::7])
    np.testing.assert_array_equal(model.cluster_centers_, reference.cluster_centers_.astype(np.float32))
    field = open_source(REAL_FLOAT32).read(None, 2024)
    np.testing.assert_array_equal(model.predict(field)[field.mask], reference.predict(field.valid_vectors()))


def _holey(tmp_path, src, nodata=None):
    with rasterio.open(src) as ds:
        data = ds.read()
    fill = -128 if data.dtype == np.int8 else np.float32("-inf")
    data[:, 10:20, 30:40] = fill
    data[:, 50, 50] = 0  # an all-zero vector
    data[5, 60, 60] = fill  # one band missing
    extra = {"nodata": nodata} if nodata is not None else {}
    return write_like(tmp_path / f"holey_{data.dtype}_2024.tif", src, data, **extra)


@pytest.mark.parametrize("src", [REAL_INT8, REAL_FLOAT32])
def test_reading_in_place_equals_the_band_first_decode(tmp_path, src):
    path = _holey(tmp_path, src)
    f = open_source(path).files[2024][0]
    assert f.reads_pixel_first
    with rasterio.open(path) as ds:
        expected_values, expected_valid = f.decode(ds.read(list(f.band_indexes)))
        window = Window(3, 7, 80, 60)
        out = np.empty((60, 80, 64), dtype=np.float32)
        valid = f.read_vectors(ds, window, out)
    np.testing.assert_array_equal(valid, expected_valid[7:67, 3:83])
    np.testing.assert_array_equal(out, expected_values[7:67, 3:83])  # NaN where invalid, in both
    assert not valid[50 - 7, 50 - 3] and not valid[60 - 7, 60 - 3] and not valid[15 - 7, 35 - 3]


def test_finish_vectors_is_exact_where_the_sum_is_misleading():
    values = np.ones((6, 64), dtype=np.float32)
    values[1] = 0  # all zero: no data
    values[2, ::2], values[2, 1::2] = 1, -1  # sums to zero but is a vector
    values[3, 7] = np.nan
    values[4, 0] = np.inf
    values[5] = 3e38  # finite, but the sum overflows
    valid = finish_vectors(values)
    np.testing.assert_array_equal(valid, [True, False, True, False, False, True])
    assert np.isnan(values[[1, 3, 4]]).all() and np.isfinite(values[[0, 2, 5]]).all()


@pytest.mark.parametrize("src", [REAL_INT8, REAL_FLOAT32])
@pytest.mark.parametrize("resolution", [30, 50, 70])
def test_partly_covered_edge_pixels_read_like_the_whole_grid_warp(src, resolution):
    source = open_source(src)
    f, grid = source.files[2024][0], source.grid(None, resolution)
    with rasterio.open(f.path) as ds:
        values, valid = file_window._warp(ds, f, grid)
    field = source.read_window(grid, 2024)
    np.testing.assert_array_equal(field.mask, valid)
    np.testing.assert_array_equal(field.values, values)


def test_threaded_cluster_path_equals_the_serial_one(tmp_path):
    with rasterio.open(REAL_INT8) as ds:
        data = ds.read()
    big = np.tile(data, (1, 4, 5))  # 384 x 480 px: several 256 px chunks
    path = write_like(tmp_path / "big_2024.tif", REAL_INT8, big, tiled=True, blockxsize=256, blockysize=256)
    source = open_source(path)
    grid = source.grid()
    serial = cluster_grid(source, grid, 2024, None, EmbeddingKMeans(4, 300), workers=1)
    threaded = cluster_grid(source, grid, 2024, None, EmbeddingKMeans(4, 300), workers=3)
    np.testing.assert_array_equal(serial, threaded)
    whole = EmbeddingKMeans(4, 300).fit(source.read(None, 2024))
    np.testing.assert_array_equal(whole.predict(source.read(None, 2024)), threaded)


@pytest.mark.parametrize("src", [REAL_INT8, REAL_FLOAT32])
def test_large_reads_split_over_threads_equal_one_read(tmp_path, src):
    with rasterio.open(src) as ds:
        data = np.tile(ds.read(), (1, 2, 2))  # 192 x 192 px in 32 px tiles: even the overview has several tile rows
    path = write_like(tmp_path / f"tiled_{data.dtype}_2024.tif", src, data, tiled=True, blockxsize=32, blockysize=32)
    with rasterio.open(path, "r+") as ds:
        ds.build_overviews([2], rasterio.enums.Resampling.nearest)
    source = open_source(path)
    f = source.files[2024][0]
    for resolution in (None, 20):  # full resolution, and the overview read pixel for pixel
        grid = source.grid(None, resolution)
        field = source.read_window(grid, 2024)
        level = {} if resolution is None else {"overview_level": 0}
        with rasterio.open(path, **level) as ds:
            expected_values, expected_valid = f.decode(ds.read(list(f.band_indexes)))
        np.testing.assert_array_equal(field.mask, expected_valid)
        np.testing.assert_array_equal(field.values, expected_values)
