"""Reading GeoTIFF embeddings: both encodings, orientation, mosaics, overviews, georeferencing, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer
from rasterio.enums import Resampling

from aef_widgets.core.aoi import AOI
from aef_widgets.core.errors import NoDataError, SourceError, YearError
from aef_widgets.sources import open_source
from tests.conftest import REAL_INT8, bottom_up_copy, write_like


def lonlat_of_pixel(path, row, col):
    """Centre of a pixel in lon/lat, computed from the file's own transform with pyproj."""
    with rasterio.open(path) as ds:
        x, y = ds.transform @ (col + 0.5, row + 0.5)
        return Transformer.from_crs(ds.crs, "EPSG:4326", always_xy=True).transform(x, y)


def test_both_encodings_read_to_the_same_unit_vectors(real_int8, real_float32, real_values):
    a = open_source(real_int8).read(None, 2024)
    b = open_source(real_float32).read(None, 2024)
    assert a.values.shape == b.values.shape == real_values.shape
    np.testing.assert_allclose(a.values, b.values, atol=1e-6, rtol=0)
    np.testing.assert_allclose(b.values, real_values, atol=1e-7, rtol=0)
    norms = np.linalg.norm(a.values.astype(np.float64), axis=2)
    assert abs(norms.mean() - 1) < 1e-3 and norms.min() > 0.99 and norms.max() < 1.01


@pytest.mark.parametrize("row, col", [(0, 0), (10, 20), (95, 95), (47, 3)])
def test_lonlat_of_a_known_pixel_maps_to_that_pixel(real_int8, real_values, row, col):
    lon, lat = lonlat_of_pixel(real_int8, row, col)
    source = open_source(real_int8)
    np.testing.assert_allclose(source.sample([(lon, lat)], 2024)[0], real_values[row, col], atol=1e-6)
    field = source.read(None, 2024)
    assert field.grid.pixel_of(lon, lat) == (row, col)
    np.testing.assert_allclose(field.vector_at(lon, lat), real_values[row, col], atol=1e-6)


@pytest.mark.parametrize("overviews", [False, True])
def test_bottom_up_file_reads_like_the_top_down_one(tmp_path, overviews):
    top_down = write_like(tmp_path / "td_2024.tif", REAL_INT8, rasterio.open(REAL_INT8).read())
    bottom_up = bottom_up_copy(top_down, tmp_path / "bu_2024.tif")
    if overviews:
        for path in (top_down, bottom_up):
            with rasterio.open(path, "r+") as ds:
                ds.build_overviews([2, 4], Resampling.average)  # block means, like the release's
    up, down = open_source(top_down), open_source(bottom_up)
    assert down.footprint.bounds == pytest.approx(up.footprint.bounds)
    for resolution in (None, 20, 40) if overviews else (None, 20, 30, 40):
        a, b = up.read(None, 2024, resolution), down.read(None, 2024, resolution)
        assert a.grid == b.grid
        np.testing.assert_array_equal(a.values, b.values)
    west, south, east, north = up.footprint.lonlat_bounds()
    aoi = AOI.from_bounds(west + 0.001, south + 0.002, west + 0.006, south + 0.005)
    np.testing.assert_array_equal(up.read(aoi, 2024).values, down.read(aoi, 2024).values)
    lon, lat = lonlat_of_pixel(REAL_INT8, 12, 70)
    np.testing.assert_array_equal(up.sample([(lon, lat)], 2024), down.sample([(lon, lat)], 2024))


def test_float64_export_with_nan_and_declared_nodata(tmp_path, real_float32, real_values):
    data = np.moveaxis(real_values, -1, 0).copy()
    data[:, 5:9, 5:9] = np.nan
    data[:, 50, :] = -9999.0
    data[:, 60, 60] = 0.0  # an unmasked gap written as zeros
    path = write_like(tmp_path / "export_2023.tif", real_float32, data, nodata=-9999.0)
    field = open_source({2023: path}).read(None, 2023)
    expected = np.ones((96, 96), dtype=bool)
    expected[5:9, 5:9] = False
    expected[50, :] = False
    expected[60, 60] = False
    np.testing.assert_array_equal(field.mask, expected)
    assert np.isnan(field.values[~expected]).all()
    np.testing.assert_allclose(field.values[expected], real_values[expected], atol=1e-7)


def test_mosaic_of_overlapping_halves_equals_the_whole(tmp_path, real_int8):
    with rasterio.open(real_int8) as ds:
        data, t = ds.read(), ds.transform
    left = write_like(tmp_path / "a.tif", real_int8, data[:, :, :60].copy())
    right = write_like(tmp_path / "b.tif", real_int8, data[:, :, 40:].copy(), transform=t @ Affine.translation(40, 0))
    mosaic = open_source({2024: [left, right]}).read(None, 2024)
    np.testing.assert_array_equal(mosaic.values, open_source(real_int8).read(None, 2024).values)


def test_file_on_another_grid_is_warped_with_nearest_neighbour(tmp_path, real_int8, real_values):
    with rasterio.open(real_int8) as ds:
        data, t = ds.read(), ds.transform
    shifted = write_like(tmp_path / "s.tif", real_int8, data, transform=t @ Affine.translation(0.5, 0.5))
    field = open_source({2024: [real_int8, shifted]}).read(None, 2024, resolution=10)
    # every pixel keeps a vector that exists in the original raster (no blending of embeddings)
    original = {tuple(v) for v in np.round(real_values.reshape(-1, 64), 6)}
    got = np.round(field.values[field.mask].astype(np.float64), 6)
    assert all(tuple(v) in original for v in got)


def test_coarse_reads_come_from_overviews(tmp_path, real_int8):
    path = tmp_path / "ovr_2024.tif"
    with rasterio.open(real_int8) as ds:
        data = ds.read()
    write_like(path, real_int8, data, tiled=True, blockxsize=32, blockysize=32)
    with rasterio.open(path, "r+") as ds:
        ds.build_overviews([2, 4], Resampling.average)  # average of codes: distinctive, so we can tell
    with rasterio.open(path, overview_level=0) as ovr:
        expected = ovr.read()
    field = open_source(path).read(None, 2024, resolution=20)
    assert field.shape == expected.shape[1:]
    from aef_widgets.core.quantization import dequantize

    np.testing.assert_array_equal(field.values, np.moveaxis(dequantize(expected), 0, -1))


def test_bands_are_matched_by_name(tmp_path, real_int8, real_values):
    with rasterio.open(real_int8) as ds:
        data, names = ds.read(), list(ds.descriptions)
    order = np.random.default_rng(1).permutation(64)
    path = write_like(tmp_path / "shuffled_2024.tif", real_int8, data[order].copy())
    with rasterio.open(path, "r+") as ds:
        ds.descriptions = tuple(names[i] for i in order)
    np.testing.assert_allclose(open_source(path).read(None, 2024).values, real_values, atol=1e-6)


def test_years_from_mapping_tags_and_names(tmp_path, real_int8):
    assert open_source(real_int8).years == (2024,)  # YEAR tag
    a = write_like(tmp_path / "emb_2019.tif", real_int8, rasterio.open(real_int8).read())
    with rasterio.open(a, "r+") as ds:
        ds.update_tags(YEAR="")
    assert open_source(a).years == (2019,)
    assert open_source({2018: a, 2020: real_int8}).years == (2018, 2020)
    assert open_source(str(tmp_path / "*.tif")).years == (2019,)


def test_stream_tiles_the_aoi_and_matches_a_whole_read(real_int8):
    source = open_source(real_int8)
    west, south, east, north = source.footprint.lonlat_bounds()
    aoi = AOI.from_geojson(
        {"type": "Polygon", "coordinates": [[[west, south], [east, north], [west, north], [west, south]]]}
    )
    whole = source.read(aoi, 2024)
    values = np.full_like(whole.values, np.nan)
    mask = np.zeros_like(whole.mask)
    n = 0
    for window, chunk in source.stream(aoi, 2024, max_chunk_bytes=40 * 40 * 256):
        rows, cols = window.toslices()
        values[rows, cols], mask[rows, cols] = chunk.values, chunk.mask
        n += 1
    assert n > 1
    np.testing.assert_array_equal(mask, whole.mask)
    np.testing.assert_array_equal(values, whole.values)
    assert 0.4 < whole.mask.mean() < 0.6  # the triangle covers half the square


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: write_like(p, REAL_INT8, np.zeros((3, 8, 8), np.int8)), "has 3 bands"),
        (lambda p: write_like(p, REAL_INT8, np.zeros((64, 8, 8), np.uint8), nodata=None), "uint8"),
        (lambda p: p, "no such file"),
    ],
)
def test_bad_files_are_refused_with_a_reason(tmp_path, make, message):
    path = make(tmp_path / "bad_2024.tif")
    with pytest.raises(SourceError, match=message):
        open_source(path)


def test_unknown_year_and_empty_aoi_are_clear_errors(real_int8):
    source = open_source(real_int8)
    with pytest.raises(YearError, match="years available: 2024"):
        source.read(None, 2017)
    with pytest.raises(NoDataError, match="does not overlap"):
        source.read(AOI.from_bounds(10, 10, 11, 11), 2024)


def test_file_without_year_asks_for_one(tmp_path, real_int8):
    path = write_like(tmp_path / "embeddings.tif", real_int8, rasterio.open(real_int8).read())
    with rasterio.open(path, "r+") as ds:
        ds.update_tags(YEAR="")
    with pytest.raises(SourceError, match="cannot tell the year"):
        open_source(path)


def test_bottom_up_helper_really_flips(tmp_path, real_int8):
    path = bottom_up_copy(real_int8, tmp_path / "flip_2024.tif")
    with rasterio.open(path) as a, rasterio.open(real_int8) as b:
        assert a.transform.e > 0
        np.testing.assert_array_equal(a.read()[:, ::-1, :], b.read())


def test_sources_are_named_after_their_file_or_folder(tmp_path, real_int8):
    assert open_source(real_int8).name == "wisconsin_2024_int8.tif"
    folder = tmp_path / "my_embeddings"
    folder.mkdir()
    for year in (2023, 2024):
        path = write_like(folder / f"aef_{year}.tif", real_int8, rasterio.open(real_int8).read())
        with rasterio.open(path, "r+") as ds:
            ds.update_tags(YEAR=str(year))
    assert open_source(folder).name == "my_embeddings (2 files)"
    assert open_source(folder, name="Mine").name == "Mine"
