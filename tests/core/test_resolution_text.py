"""Pixel sizes in words: metres for projected grids, degrees (with their rough length) for lon/lat grids."""

from affine import Affine
from rasterio.crs import CRS

from aef_widgets.core.grid import Grid, format_resolution


def test_lonlat_pixel_sizes_are_degrees_not_metres():
    grid = Grid(Affine(0.000109851, 0, -88.8, 0, -0.000109851, 44.3), 100, 100, CRS.from_epsg(4326))
    assert grid.resolution_text == "0.00011° (about 12 m)"
    assert " m" not in grid.resolution_text.split("(")[0]


def test_projected_pixel_sizes_are_in_their_units():
    assert format_resolution(10, CRS.from_epsg(32616)) == "10 m"
    assert format_resolution(20.0, CRS.from_epsg(3857)) == "20 m"
