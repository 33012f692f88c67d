"""Against the real Earth Engine: runs only where credentials are set up (see ``aef_widgets.ee_auth``).

The AOI is the one of the bundled real raster (Wisconsin, 2024, UTM 16N), so what Earth Engine returns can be
compared with pixels exported from it earlier.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer

from aef_widgets.core.aoi import AOI
from aef_widgets.core.grid import Grid
from aef_widgets.ee_auth import ee_init, ee_status
from aef_widgets.engines.base import Tiles
from aef_widgets.engines.earthengine import EarthEngineEngine
from aef_widgets.rendering.view import MapView
from aef_widgets.sources.earthengine import EarthEngineSource

pytestmark = pytest.mark.earthengine


@pytest.fixture(scope="module")
def engine() -> EarthEngineEngine:
    if not ee_init():
        pytest.skip(f"needs real Earth Engine credentials: {ee_status()}")
    return EarthEngineEngine(EarthEngineSource())


@pytest.fixture(scope="module")
def real_grid(real_float32: Path) -> Grid:
    with rasterio.open(real_float32) as ds:
        return Grid(ds.transform, ds.width, ds.height, ds.crs)


@pytest.fixture(scope="module")
def aoi(real_grid: Grid) -> AOI:
    return AOI.from_bounds(*real_grid.bounds, crs=real_grid.crs)


def test_a_small_aoi_of_2024_has_64_unit_bands_matching_the_exported_raster(
    engine: EarthEngineEngine, real_grid: Grid, real_values: np.ndarray
) -> None:
    field = engine.source.read_window(real_grid, 2024)
    assert field.values.shape == (*real_grid.shape, 64)
    assert field.mask.all()
    norms = np.linalg.norm(field.values.astype(np.float64), axis=2)
    assert np.abs(norms - 1).max() < 0.01
    same = np.isclose(field.values, real_values, atol=1e-6).all(axis=2)
    assert same.mean() > 0.9  # the raster was resampled once from an export; nearly every pixel is in place


def test_points_sample_the_pixels_they_fall_in(engine: EarthEngineEngine, real_grid: Grid) -> None:
    field = engine.source.read_window(real_grid, 2024)
    to_lonlat = Transformer.from_crs(real_grid.crs, "EPSG:4326", always_xy=True)
    points = [to_lonlat.transform(*(real_grid.transform @ (col + 0.5, row + 0.5))) for row, col in [(10, 20), (70, 50)]]
    vectors = engine.source.sample(points, 2024)
    np.testing.assert_allclose(vectors, field.values[[10, 70], [20, 50]], atol=1e-6)


def test_similarity_and_clusters_work_server_side(engine: EarthEngineEngine, aoi: AOI, tmp_path: Path) -> None:
    west, south, east, north = aoi.bounds
    view = MapView(west, south, east, north, 400, 400)
    similarity = engine.similarity(2024, [((west + east) / 2, (south + north) / 2)], aoi)
    assert similarity.readout == pytest.approx(1.0, abs=0.01)
    assert isinstance(similarity.layer(engine.context, view), Tiles) and similarity.layer(
        engine.context, view
    ).url.startswith("https://")
    area = similarity.above_area(engine.context, 0.9)
    assert 0 < area.percent <= 100 and area.hectares <= aoi.area_km2 * 100 * 1.05

    clusters = engine.clusters(2024, aoi, None, n_clusters=3, n_samples=300, seed=1)
    assert clusters.areas.total_ha == pytest.approx(aoi.area_km2 * 100, rel=0.1)
    assert sum(p > 0 for p in clusters.areas.pixels) >= 2
    with rasterio.open(clusters.export(engine.context, tmp_path / "clusters.tif")) as ds:
        labels = ds.read(1)
    assert set(np.unique(labels)) <= {0, 1, 2, 255}

    change = engine.change(2023, 2024, aoi)
    assert 0 <= change.above_area(engine.context, 0.5).percent <= 100
