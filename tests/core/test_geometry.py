"""AOI geometry: wrapped longitudes, the antimeridian, invalid rings, overlaps, and areas of very large boxes."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from pyproj import Geod, Transformer
from rasterio.crs import CRS

from aef_widgets.core.aoi import AOI
from aef_widgets.core.errors import AOIError
from aef_widgets.core.grid import Footprint, Grid

GEOD = Geod(ellps="WGS84")
#: Surface area of the WGS84 ellipsoid (NIMA TR8350.2 gives 5.10065622e14 m²).
WGS84_AREA_KM2 = 510_065_621.724
UTM16 = CRS.from_epsg(32616)


def polygon(*ring) -> dict:
    return {"type": "Polygon", "coordinates": [[*map(list, ring), list(ring[0])]]}


def geodesic_km2(lons, lats) -> float:
    return abs(GEOD.polygon_area_perimeter(lons, lats)[0]) / 1e6


def utm_grid(west=-88.82, south=44.27, east=-88.75, north=44.33) -> Grid:
    to_utm = Transformer.from_crs(4326, UTM16, always_xy=True)
    left, bottom, right, top = to_utm.transform_bounds(west, south, east, north)
    left, top = np.floor(left / 10) * 10, np.ceil(top / 10) * 10
    return Grid(Affine(10, 0, left, 0, -10, top), int((right - left) // 10) + 1, int((top - bottom) // 10) + 1, UTM16)


def test_the_world_box_has_the_area_of_the_ellipsoid():
    assert AOI.from_bounds(-180, -90, 180, 90).area_km2 == pytest.approx(WGS84_AREA_KM2, rel=1e-9)
    assert AOI.from_bounds(-180, 0, 0, 90).area_km2 == pytest.approx(WGS84_AREA_KM2 / 4, rel=1e-9)
    assert AOI.from_bounds(-200, -90, 400, 90).area_km2 == pytest.approx(WGS84_AREA_KM2, rel=1e-9)


def test_boxes_far_wider_than_a_utm_zone_mask_every_pixel_they_cover():
    grid = utm_grid()
    for bounds in [(-180, 0, 0, 90), (-180, -90, 180, 90), (-120, 20, -60, 60)]:
        assert AOI.from_bounds(*bounds).mask(grid).all(), bounds
        assert AOI.from_bounds(*bounds).bounds_in(UTM16, within=grid.lonlat_bounds())[0] < grid.bounds[0]
    assert not AOI.from_bounds(0, 0, 180, 90).mask(grid).any()  # the other hemisphere


def test_leaflet_longitudes_on_other_world_copies_are_wrapped():
    here = AOI.from_bounds(-88.8, 44.28, -88.76, 44.32)
    for turns in (-1, 1, 3):
        shifted = AOI.from_bounds(-88.8 + 360 * turns, 44.28, -88.76 + 360 * turns, 44.32)
        assert shifted.bounds == pytest.approx(here.bounds, abs=1e-9)
        assert shifted.area_km2 == pytest.approx(here.area_km2, rel=1e-9)
    drawn = AOI.from_geojson(polygon((-448.8, 44.28), (-448.76, 44.28), (-448.76, 44.32), (-448.8, 44.32)))
    assert np.array_equal(drawn.mask(utm_grid()), here.mask(utm_grid()))


def test_a_box_across_the_antimeridian_is_split_and_keeps_its_area():
    across = AOI.from_bounds(170, 10, 190, 20)
    assert len(across.polygons) == 2
    lons = [x for p in across.polygons for x, _ in p[0]]
    assert min(lons) == -180 and max(lons) == 180
    assert across.bounds == pytest.approx((170, 10, 190, 20))
    # the same box turned by 180 degrees does not cross: equal area by symmetry
    assert across.area_km2 == pytest.approx(AOI.from_bounds(-10, 10, 10, 20).area_km2, rel=1e-9)
    drawn = AOI.from_geojson(polygon((170, 10), (190, 10), (190, 20), (170, 20)))
    assert drawn.area_km2 == pytest.approx(across.area_km2, rel=1e-9)
    assert AOI.from_bounds(-190, 10, -170, 20).area_km2 == pytest.approx(across.area_km2, rel=1e-9)


def test_an_aoi_wider_than_the_world_is_refused():
    with pytest.raises(AOIError, match="more than 360 degrees"):
        AOI.from_geojson(polygon((-180, 0), (200, 0), (200, 1), (-180, 1)))


def test_a_self_intersecting_polygon_is_repaired_and_its_area_is_what_it_masks():
    bowtie = polygon((-88.8, 44.28), (-88.76, 44.32), (-88.76, 44.28), (-88.8, 44.32))
    aoi = AOI.from_geojson(bowtie)
    left = geodesic_km2([-88.8, -88.78, -88.8], [44.28, 44.30, 44.32])
    right = geodesic_km2([-88.76, -88.78, -88.76], [44.28, 44.30, 44.32])
    assert aoi.area_km2 == pytest.approx(left + right, rel=1e-4)
    masked_km2 = aoi.mask(utm_grid()).sum() * 100 / 1e6
    assert masked_km2 == pytest.approx(aoi.area_km2, rel=0.01)


def test_overlapping_polygons_are_counted_once():
    a = [[-88.8, 44.28], [-88.77, 44.28], [-88.77, 44.31], [-88.8, 44.31], [-88.8, 44.28]]
    b = [[-88.79, 44.29], [-88.76, 44.29], [-88.76, 44.32], [-88.79, 44.32], [-88.79, 44.29]]
    aoi = AOI.from_geojson({"type": "MultiPolygon", "coordinates": [[a], [b]]})
    union = AOI.from_geojson(polygon(
        (-88.8, 44.28), (-88.77, 44.28), (-88.77, 44.29), (-88.76, 44.29), (-88.76, 44.32), (-88.79, 44.32),
        (-88.79, 44.31), (-88.8, 44.31),
    ))  # fmt: skip
    assert aoi.area_km2 == pytest.approx(union.area_km2, rel=1e-9)
    assert aoi.mask(utm_grid()).sum() * 100 / 1e6 == pytest.approx(aoi.area_km2, rel=0.01)


def test_a_hole_larger_than_its_ring_is_refused():
    outer = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
    hole = [[-1, -1], [2, -1], [2, 2], [-1, 2], [-1, -1]]
    with pytest.raises(AOIError, match=r"hole .* reaches outside its outer ring"):
        AOI.from_geojson({"type": "Polygon", "coordinates": [outer, hole]})


def test_a_footprint_across_the_antimeridian_is_centred_on_it():
    # 2 km around lon 180 at 17 S (Fiji), in UTM zone 60S
    to_utm = Transformer.from_crs(4326, 32760, always_xy=True)
    x, y = to_utm.transform(180, -17)
    footprint = Footprint((x - 1000, y - 1000, x + 1000, y + 1000), CRS.from_epsg(32760))
    west, _, east, _ = footprint.lonlat_bounds()
    assert west < 180 < east and east - west < 0.1
    lon, lat = footprint.center_lonlat
    assert abs(abs(lon) - 180) < 1e-3 and lat == pytest.approx(-17, abs=1e-3)


def test_coordinates_that_are_not_degrees_are_refused():
    with pytest.raises(AOIError, match="latitudes must be between -90 and 90"):
        AOI.from_bounds(0, 80, 1, 95)
    with pytest.raises(AOIError, match="not degrees"):
        AOI.from_bounds(358_000, 4_905_000, 359_000, 4_906_000)  # UTM metres without crs=


def test_clicked_longitudes_wrap_onto_one_world():
    from aef_widgets.core.geometry import wrap_lon

    assert wrap_lon(-448.79) == pytest.approx(-88.79)
    assert wrap_lon(180.0) == -180.0 and wrap_lon(-180.0) == -180.0 and wrap_lon(271.21) == pytest.approx(-88.79)
    np.testing.assert_allclose(wrap_lon(np.array([-448.79, 10.0, 370.0])), [-88.79, 10.0, 10.0])
