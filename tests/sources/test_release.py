"""The public COG release as a source, against a miniature of it served on loopback in both mirror layouts."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.enums import Resampling
from rasterio.warp import reproject

from aef_widgets.core.aoi import AOI
from aef_widgets.core.errors import TooManyFilesError
from aef_widgets.sources.release import ReleaseSource
from aef_widgets.sources.release_http import USER_AGENT
from tests.release_data import tile_byte_ranges


def _aoi_in_pixels(tile, rows: slice, cols: slice) -> AOI:
    """An AOI covering whole pixels rows x cols of a tile (in its own CRS, shrunk a little so edges stay inside)."""
    t = tile.transform
    left, top = t @ (cols.start + 0.01, rows.start + 0.01)
    right, bottom = t @ (cols.stop - 0.01, rows.stop - 0.01)
    return AOI.from_bounds(left, bottom, right, top, crs=tile.crs)


def _dequantize(codes: np.ndarray) -> np.ndarray:
    """The release's formula, in float64: sign(q) * (q / 127.5) ** 2, NaN for -128."""
    q = codes.astype(np.float64)
    out = np.sign(q) * (q / 127.5) ** 2
    out[codes == -128] = np.nan
    return out


def test_years_and_footprint_come_from_the_index(gcs_release, release_tiles):
    source = gcs_release.open()
    assert isinstance(source, ReleaseSource)
    assert source.years == (2023, 2024)
    west, south, east, north = source.footprint.lonlat_bounds()
    assert west < -84 < east and south < 44 < north


def test_a_small_aoi_reads_true_values_and_fetches_only_its_blocks(gcs_release, release_tiles):
    west_tile = release_tiles[0]
    source = gcs_release.open(cache=False)
    gcs_release.log.reset()
    rows, cols = slice(40, 70), slice(100, 140)  # inside one 256 px block, away from the other zone's tile
    field = source.read(_aoi_in_pixels(west_tile, rows, cols), 2024)
    assert field.grid.shape == (30, 40) and field.grid.crs == rasterio.crs.CRS.from_user_input(west_tile.crs)
    np.testing.assert_allclose(field.values, _dequantize(west_tile.codes[rows, cols]), rtol=0, atol=1e-7)
    assert field.mask.all()
    # server side: the header and that one block, never the whole file
    _, counts = tile_byte_ranges(gcs_release.file(west_tile.relpath))
    size = gcs_release.file(west_tile.relpath).stat().st_size
    assert gcs_release.log.bytes_sent < counts[1] + 64 * 1024 < size / 3
    assert all(r.startswith("bytes=") or r == "HEAD" for _, r, _ in gcs_release.log.requests)


def test_every_request_carries_our_user_agent(gcs_release, release_tiles):
    for cache in (False, True):
        source = gcs_release.open(cache=cache)
        source.read(_aoi_in_pixels(release_tiles[0], slice(0, 20), slice(0, 20)), 2024)
    agents = {agent for _, _, agent in gcs_release.log.requests}
    assert agents == {USER_AGENT}


def test_mosaic_across_utm_zones_equals_a_gdal_reprojection(gcs_release, release_tiles):
    """A grid in zone 16N across the 17N boundary: 16N pixels read directly, 17N pixels warped (nearest)."""
    source = gcs_release.open()
    aoi = AOI.from_bounds(-84.02, 43.99, -83.955, 44.01)
    field = source.read(aoi, 2024)
    grid = field.grid
    assert grid.crs.to_epsg() == 32616
    reference = np.full((64, *grid.shape), -128, dtype=np.int8)
    for tile in release_tiles[:2]:  # 2024: the 16N tile first (it wins where both have data), then 17N
        warped = np.full((64, *grid.shape), -128, dtype=np.int8)
        reproject(
            np.moveaxis(tile.codes, -1, 0), warped, src_transform=tile.transform, src_crs=tile.crs,
            dst_transform=grid.transform, dst_crs=grid.crs, src_nodata=-128, dst_nodata=-128,
            resampling=Resampling.nearest,
        )  # fmt: skip
        empty = (reference == -128).all(axis=0)
        reference[:, empty] = warped[:, empty]
    expected = _dequantize(np.moveaxis(reference, 0, -1))
    expected[~aoi.mask(grid)] = np.nan
    from_east = field.mask & ~np.isnan(expected[..., 0])
    assert from_east.sum() > 1000
    east_pixels = grid.pixel_of(-83.96, 44.0)  # a pixel only the 17N tile covers
    assert field.mask[east_pixels]
    agree = np.isclose(field.values, expected, rtol=0, atol=1e-7) | (np.isnan(field.values) & np.isnan(expected))
    assert agree.all(axis=-1).mean() > 0.999  # the warper's approximate transform may move a rare edge pixel
    np.testing.assert_array_equal(field.mask, ~np.isnan(expected[..., 0]))


@pytest.mark.parametrize("resolution", [None, 40.0])
def test_bottom_up_files_read_exactly_like_top_down_ones(gcs_release, coop_release, resolution):
    aoi = AOI.from_bounds(-84.03, 43.98, -83.955, 44.02)
    top_down = gcs_release.open().read(aoi, 2024, resolution=resolution)
    bottom_up = coop_release.open().read(aoi, 2024, resolution=resolution)
    assert top_down.grid == bottom_up.grid
    np.testing.assert_array_equal(top_down.values, bottom_up.values)
    np.testing.assert_array_equal(top_down.mask, bottom_up.mask)
    assert top_down.mask.mean() > 0.5


def test_coarse_reads_come_from_the_overviews(gcs_release, release_tiles):
    """At 40 m a grid pixel is the file's 4x overview pixel: a renormalised mean, not a decimated pixel."""
    tile = release_tiles[0]
    source = gcs_release.open()
    field = source.read(_aoi_in_pixels(tile, slice(64, 128), slice(64, 128)), 2024, resolution=40)
    with rasterio.open(gcs_release.file(tile.relpath), overview_level=1) as ds:
        codes = ds.read(window=((16, 32), (16, 32)))
    np.testing.assert_allclose(field.values, _dequantize(np.moveaxis(codes, 0, -1)), rtol=0, atol=1e-7)


def test_where_no_tile_lies_is_nodata_not_an_error(gcs_release):
    source = gcs_release.open()
    sea = AOI.from_bounds(-30.0, 40.0, -29.99, 40.01)  # mid-Atlantic: no tile
    field = source.read(sea, 2024)
    assert not field.mask.any() and np.isnan(field.values).all()
    assert np.isnan(source.sample([(-30.0, 40.0)], 2024)).all()
    assert all(p.endswith(".parquet") for p in gcs_release.log.paths())  # the index (STAC first), no file


def test_a_point_samples_the_tile_under_it(gcs_release, release_tiles):
    tile = release_tiles[1]
    source = gcs_release.open()
    x, y = tile.transform @ (400.5, 200.5)  # east of the 16N tile
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(tile.crs, "EPSG:4326", always_xy=True).transform(x, y)
    vector = source.sample([(lon, lat)], 2024)[0]
    np.testing.assert_allclose(vector, _dequantize(tile.codes[200, 400]), rtol=0, atol=1e-7)


def test_a_read_over_too_many_files_says_zoom_in(gcs_release):
    source = gcs_release.open(max_files=1)
    with pytest.raises(TooManyFilesError, match="zoom in"):
        source.read(AOI.from_bounds(-84.03, 43.98, -83.955, 44.02), 2024)
    assert source.read(AOI.from_bounds(-84.03, 43.99, -84.02, 44.0), 2024).mask.any()  # one file is fine


def test_large_aois_stream_in_bounded_chunks(gcs_release):
    """Chunks equal the whole read: exactly where pixels are read directly, and all but a rare pixel where they
    are warped from the other zone (GDAL's warper approximates its transform to 1/8 pixel per output window)."""
    source = gcs_release.open()
    aoi = AOI.from_bounds(-84.03, 43.98, -83.955, 44.02)
    whole = source.read(aoi, 2024)
    pieces = list(source.stream(aoi, 2024, max_chunk_bytes=256 * 256 * 256))
    assert len(pieces) > 1
    same = np.zeros(whole.grid.shape, dtype=bool)
    for window, field in pieces:
        rows, cols = window.toslices()
        same[rows, cols] = ((field.values == whole.values[rows, cols]) | np.isnan(whole.values[rows, cols])).all(-1)
    west = whole.grid.pixel_of(-83.98, 44.0)[1]  # columns inside the 16N tile, which are read directly
    assert same[:, :west].all()
    assert same.mean() > 0.999
