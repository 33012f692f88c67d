"""Polygons of class maps and thresholded values: their areas equal the raster's, in both CRSs, read back with
shapely and pyproj."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio.crs import CRS
from shapely.geometry import shape

from aef_widgets.analysis.area import area_ha, class_areas
from aef_widgets.analysis.vectors import class_polygons, threshold_polygons
from aef_widgets.core.grid import Grid
from aef_widgets.sources.vector_export import write_geojson

GRID = Grid(Affine(10, 0, 352000, 0, -10, 4912000), 200, 150, CRS.from_epsg(32616))


@pytest.fixture
def labels() -> np.ndarray:
    """Blobs of 4 classes with holes and specks, and a band without data."""
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(GRID.height // 5 + 1, GRID.width // 5 + 1)).repeat(5, 0).repeat(5, 1)
    noise = noise[: GRID.height, : GRID.width] + 0.6 * rng.normal(size=GRID.shape)
    out = np.digitize(noise, [-0.8, 0, 0.8]).astype(np.int16)
    out[:, :7] = -1
    return out


def test_class_polygons_cover_exactly_the_class_pixels(labels, tmp_path):
    layer = class_polygons(labels, GRID)
    areas = class_areas(labels, GRID, 4)
    for c in range(4):
        polygons = [p for p in layer.properties if p["class"] == c]
        assert sum(p["area_ha"] for p in polygons) == pytest.approx(areas.hectares[c], rel=1e-12)
    # read back from the file in the source CRS: shapely's own areas, nothing outside the valid pixels
    path = write_geojson(tmp_path / "classes_utm.geojson", layer, GRID.crs)
    data = json.loads(path.read_text())
    assert data["crs"]["properties"]["name"] == "EPSG:32616"
    geoms = [shape(f["geometry"]) for f in data["features"]]
    assert sum(g.area for g in geoms) == pytest.approx(np.count_nonzero(labels >= 0) * 100)
    assert all(g.is_valid for g in geoms)
    assert shapely.union_all(geoms).bounds == pytest.approx((352070, 4910500, 354000, 4912000))
    # and in WGS84: projected back to UTM with pyproj, the same polygons
    wgs84 = json.loads(write_geojson(tmp_path / "classes.geojson", layer).read_text())
    assert "crs" not in wgs84
    back = Transformer.from_crs("EPSG:4326", GRID.crs, always_xy=True).transform
    for f, g in zip(wgs84["features"], geoms):
        lon, lat = shape(f["geometry"]).representative_point().coords[0]
        assert -89 < lon < -88 and 44 < lat < 45
        assert shapely.transform(shape(f["geometry"]), back, interleaved=False).area == pytest.approx(g.area, rel=1e-6)
        assert f["properties"]["area_m2"] == pytest.approx(g.area)


@pytest.mark.parametrize("simplify", [0.0, 10.0])
def test_thresholded_polygons_match_the_raster_area_within_a_pixel_per_polygon(labels, simplify):
    values = np.random.default_rng(1).uniform(0, 1, GRID.shape).astype(np.float32)
    values = values * 0.3 + (labels == 2) * 0.7
    values[labels < 0] = np.nan
    layer = threshold_polygons(values, GRID, 0.8, simplify=simplify)
    raster = area_ha(values >= 0.8, GRID) * 1e4
    assert len(layer) > 20 and {p["value"] for p in layer.properties} == {1}
    assert abs(layer.total_area_m2 - raster) <= len(layer) * 100  # one 10 m pixel per polygon
    if simplify == 0:
        assert layer.total_area_m2 == pytest.approx(raster)
    else:  # simplified: fewer vertices, areas moved but within the bound
        exact = threshold_polygons(values, GRID, 0.8)
        vertices = [sum(len(g.exterior.coords) for g in x.geometries) for x in (layer, exact)]
        assert vertices[0] < vertices[1]


def test_a_minimum_area_drops_small_polygons(labels):
    every = class_polygons(labels, GRID)
    large = class_polygons(labels, GRID, min_area_m2=2000)
    assert 0 < len(large) < len(every) and all(p["area_m2"] >= 2000 for p in large.properties)
    assert len(large) == sum(p["area_m2"] >= 2000 for p in every.properties)


def test_geographic_grids_get_geodesic_areas():
    grid = Grid(Affine(0.0001, 0, -88.8, 0, -0.0001, 44.3), 100, 80, CRS.from_epsg(4326))
    labels = np.zeros(grid.shape, np.int16)
    labels[20:60, 10:70] = 1
    layer = class_polygons(labels, grid)
    one = sum(p["area_ha"] for p in layer.properties if p["class"] == 1)
    assert one == pytest.approx(class_areas(labels, grid, 2).hectares[1], rel=1e-4)


def test_no_pixels_no_polygons_and_floats_are_refused():
    assert len(threshold_polygons(np.full(GRID.shape, np.nan), GRID, 0.5)) == 0
    with pytest.raises(ValueError, match="integer"):
        class_polygons(np.zeros(GRID.shape), GRID)
