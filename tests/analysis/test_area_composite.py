"""Areas from the real pixel size, and display composites."""

import numpy as np
import pytest
from affine import Affine
from pyproj import Geod
from rasterio.crs import CRS

from aef_widgets.analysis import (
    BandStretch,
    PCAComposite,
    area_ha,
    band_composite,
    class_areas,
    k_means,
    pixel_area_m2,
)
from aef_widgets.core.aoi import AOI
from aef_widgets.core.grid import Grid
from aef_widgets.sources import open_source


def test_class_areas_sum_to_the_aois_valid_area(int8_with_hole):
    path, hole = int8_with_hole
    source = open_source(path)
    west, south, east, north = source.footprint.lonlat_bounds()
    aoi = AOI.from_bounds(west + 0.001, south + 0.001, east - 0.002, north - 0.001)
    field = source.read(aoi, 2024)
    labels, _ = k_means(field, n_clusters=4)
    areas = class_areas(labels, field.grid, 4)
    assert sum(areas.pixels) == field.valid_count
    # 10 m UTM pixels are 0.01 ha each
    assert areas.total_ha == pytest.approx(field.valid_count * 0.01)
    assert sum(areas.percent) == pytest.approx(100)
    assert areas.total_ha == pytest.approx(area_ha(field.mask, field.grid))
    assert areas.to_dataframe()["hectares"].sum() == pytest.approx(areas.total_ha)


def test_geographic_pixels_have_geodesic_areas():
    grid = Grid(Affine(0.001, 0, 10.0, 0, -0.001, 60.0), 100, 200, CRS.from_epsg(4326))
    total = pixel_area_m2(grid).sum() * grid.width
    area, _ = Geod(ellps="WGS84").polygon_area_perimeter([10, 10.1, 10.1, 10], [59.8, 59.8, 60, 60])
    assert total == pytest.approx(abs(area), rel=1e-6)
    per_row = pixel_area_m2(grid)[:, 0]
    assert per_row[0] < per_row[-1]  # pixels grow towards the equator


def test_band_composite_is_the_stretched_bands(real_int8, real_values):
    field = open_source(real_int8).read(None, 2024)
    rgb = band_composite(field, BandStretch(("A01", "A16", "A09"), -0.3, 0.3))
    expected = np.clip((real_values[..., [1, 16, 9]] + 0.3) / 0.6, 0, 1)
    np.testing.assert_allclose(rgb, expected, atol=1e-5)


def test_bad_stretches_are_refused():
    with pytest.raises(ValueError, match="min < max"):
        BandStretch(vmin=0.3, vmax=-0.3)
    with pytest.raises(ValueError, match=r"A00\.\.A63"):
        BandStretch(("A01", "A16", "B09"))


def test_pca_composite_spans_the_main_directions(int8_with_hole, real_values):
    path, hole = int8_with_hole
    field = open_source(path).read(None, 2024)
    pca = PCAComposite(n_samples=5000).fit(field)
    np.testing.assert_allclose(pca.components_ @ pca.components_.T, np.eye(3), atol=1e-5)
    # the first component is the direction of largest variance of the data (power iteration as reference)
    x = real_values[~hole] - real_values[~hole].mean(axis=0)
    v = np.ones(64)
    for _ in range(500):
        v = x.T @ (x @ v)
        v /= np.linalg.norm(v)
    assert abs(pca.components_[0] @ v) > 0.99
    rgb = pca.transform(field)
    assert np.isnan(rgb[hole]).all()
    assert np.nanmin(rgb) >= 0 and np.nanmax(rgb) <= 1
