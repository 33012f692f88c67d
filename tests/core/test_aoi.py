import json

import numpy as np
import pytest
from affine import Affine
from pyproj import Geod
from rasterio.crs import CRS

from aef_widgets.core.aoi import AOI
from aef_widgets.core.errors import AOIError
from aef_widgets.core.grid import Grid

UTM16 = CRS.from_epsg(32616)


def test_area_of_a_rectangle_matches_pyproj_geodesic_area():
    aoi = AOI.from_bounds(-88.8, 44.2, -88.7, 44.3)
    area, _ = Geod(ellps="WGS84").polygon_area_perimeter([-88.8, -88.7, -88.7, -88.8], [44.2, 44.2, 44.3, 44.3])
    # the AOI's edges follow parallels, the geodesic polygon's do not: they differ by about 1e-7 here
    assert aoi.area_km2 == pytest.approx(abs(area) / 1e6, rel=1e-6)


def test_projected_rectangle_round_trips_to_its_pixel_count():
    # a 1 km x 500 m rectangle in UTM covers 100 x 50 pixels of 10 m
    left, bottom = 358000.0, 4905000.0
    aoi = AOI.from_bounds(left, bottom, left + 1000, bottom + 500, crs=UTM16)
    grid = Grid(Affine(10, 0, left - 200, 0, -10, bottom + 700), 160, 100, UTM16)
    assert aoi.mask(grid).sum() == pytest.approx(100 * 50, abs=2)
    assert aoi.area_km2 == pytest.approx(0.5, rel=2e-3)  # UTM scale error is below 0.1% here


def test_geojson_feature_collection_with_a_hole():
    outer = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
    hole = [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75], [0.25, 0.25]]
    fc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [outer, hole]}}
        ],
    }
    with_hole = AOI.from_geojson(json.dumps(fc))
    without = AOI.from_geojson({"type": "Polygon", "coordinates": [outer]})
    assert with_hole.area_km2 == pytest.approx(without.area_km2 * 0.75, rel=1e-3)


def test_geojson_file_and_unclosed_ring(tmp_path):
    path = tmp_path / "aoi.geojson"
    path.write_text(json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]}))
    aoi = AOI.from_geojson_file(path)
    assert aoi.polygons[0][0][0] == aoi.polygons[0][0][-1]


@pytest.mark.parametrize(
    "geojson, message",
    [
        ({"type": "Point", "coordinates": [0, 0]}, "no Polygon"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}, "three distinct points"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [2, 2], [0, 0]]]}, "no area"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 91], [0, 0]]]}, "latitude"),
        ("{not json", "not valid GeoJSON"),
    ],
)
def test_bad_aois_say_what_is_wrong(geojson, message):
    with pytest.raises(AOIError, match=message):
        AOI.from_geojson(geojson)


def test_bounds_must_be_ordered():
    with pytest.raises(AOIError, match="west < east"):
        AOI.from_bounds(1, 0, 0, 1)


def test_mask_uses_pixel_centres():
    grid = Grid(Affine(0.1, 0, 0, 0, -0.1, 1), 10, 10, CRS.from_epsg(4326))
    mask = AOI.from_bounds(0.0, 0.0, 0.5, 1.0).mask(grid)
    assert mask[:, :5].all() and not mask[:, 5:].any()
    assert np.count_nonzero(mask) == 50
