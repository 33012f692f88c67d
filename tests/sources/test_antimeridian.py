"""A source straddling 180 degrees: it is found where it is, and an AOI drawn across the antimeridian masks it right."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer
from rasterio.crs import CRS

from aef_widgets import AOI, open_source
from tests.conftest import write_like

UTM60S = CRS.from_epsg(32760)


@pytest.fixture
def across_180(tmp_path, real_int8):
    """The real 96 x 96 px raster moved to straddle lon 180 at 17 S, in UTM zone 60S."""
    x, y = Transformer.from_crs(4326, UTM60S, always_xy=True).transform(180, -17)
    left, top = round(x / 10) * 10 - 480, round(y / 10) * 10 + 480
    with rasterio.open(real_int8) as ds:
        data = ds.read()
    transform = Affine(10, 0, left, 0, -10, top)
    path = write_like(tmp_path / "fiji_2024.tif", real_int8, data, crs=UTM60S, transform=transform)
    return open_source(path)


def centres_lonlat(grid):
    rows, cols = np.mgrid[0 : grid.height, 0 : grid.width]
    t = grid.transform
    xs, ys = t.c + t.a * (cols + 0.5), t.f + t.e * (rows + 0.5)
    lon, lat = Transformer.from_crs(grid.crs, 4326, always_xy=True).transform(xs, ys)
    return np.asarray(lon), np.asarray(lat)


def test_the_footprint_is_centred_on_the_antimeridian(across_180):
    west, south, east, north = across_180.footprint.lonlat_bounds()
    assert west < 180 < east and east - west < 0.02
    lon, lat = across_180.footprint.center_lonlat
    assert abs(abs(lon) - 180) < 0.005 and lat == pytest.approx(-17, abs=0.005)


@pytest.mark.parametrize("shift", [0, -360])  # as Leaflet reports it on two copies of the world
def test_an_aoi_across_180_masks_the_pixels_on_both_sides(across_180, shift):
    aoi = AOI.from_bounds(179.998 + shift, -17.003, 180.002 + shift, -16.997)
    assert len(aoi.polygons) == 2
    field = across_180.read(aoi, 2024)
    lon, lat = centres_lonlat(field.grid)
    east_of_180 = np.where(lon < 0, lon + 360, lon)
    expected = (east_of_180 > 179.998) & (east_of_180 < 180.002) & (lat > -17.003) & (lat < -16.997)
    assert expected.sum() > 1000 and (lon < 0).any() and (lon > 0).any()
    assert np.array_equal(aoi.mask(field.grid), expected)
    valid = across_180.read_window(field.grid, 2024).mask
    assert np.array_equal(field.mask, expected & valid)
    assert aoi.area_km2 * 1e6 / 100 == pytest.approx(expected.sum(), rel=0.02)
