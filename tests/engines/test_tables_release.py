"""Tables from the public release's layout on loopback: the miniature release's tiles either side of the 16N/17N
boundary at 84° W (tests/release_data: real vectors; 2024 on both sides, 2023 on the west side only), stored
bottom-up as Source Cooperative serves them. Each polygon and point is checked against the tile's own codes,
dequantised here on the tile's own grid, so the zone a row is measured in is checked too: a row in the 17N tile
must be measured on that tile's lattice, not warped into 16N."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from aef_widgets.core.bands import BAND_NAMES
from aef_widgets.core.quantization import dequantize
from aef_widgets.engines.tables import sample_points, zonal_embeddings
from tests.engines.test_tables import reference, vectors
from tests.release_data import BOUNDARY_LAT
from tests.release_fixtures import _close_caches, coop_release, release_roots, release_tiles  # noqa: F401


def tile_values(tile) -> np.ndarray:
    values = dequantize(tile.codes).astype(np.float64)
    values[(tile.codes == -128).all(axis=2)] = np.nan
    return values


def test_polygons_and_points_each_side_of_the_zone_boundary_equal_their_own_tiles(coop_release, release_tiles):  # noqa: F811
    source = coop_release.open()
    west_tile, east_tile = [t for t in release_tiles if t.year == 2024]
    assert (west_tile.zone, east_tile.zone) == ("16N", "17N")
    lat = BOUNDARY_LAT
    west = shapely.Point(-84.03, lat).buffer(0.004)  # about 2.4 km west of the boundary: only the 16N tile
    east = shapely.box(-83.968, lat - 0.003, -83.955, lat + 0.002).difference(shapely.Point(-83.961, lat).buffer(0.001))
    table = gpd.GeoDataFrame({"name": ["west", "east"]}, geometry=[west, east], crs="EPSG:4326")
    out = zonal_embeddings(source, table)
    assert list(out["year"]) == [2023, 2024, 2023, 2024]
    for i, tile in ((1, west_tile), (3, east_tile)):
        polygon = table.to_crs(tile.crs).geometry.iloc[i // 2]
        pixels, mean, spread = reference(polygon, tile_values(tile), tile.transform)
        assert out["pixels"].iloc[i] == pytest.approx(pixels, rel=1e-6)
        np.testing.assert_allclose(vectors(out)[i], mean, atol=1e-5)
        assert out["spread"].iloc[i] == pytest.approx(spread, abs=1e-6)
    assert out["pixels"].iloc[2] == 0 and np.isnan(vectors(out)[2]).all()  # 2023 has no tile east of the boundary

    lonlat = [(-84.03, lat + 0.001), (-83.96, lat - 0.001), (-83.961, lat + 0.0012)]
    points = gpd.GeoDataFrame({"plot": [1, 2, 3]}, geometry=gpd.points_from_xy(*zip(*lonlat)), crs="EPSG:4326")
    sampled = sample_points(source, points, 2024)
    for i, tile in ((0, west_tile), (1, east_tile), (2, east_tile)):
        p = points.to_crs(tile.crs).geometry.iloc[i]
        col, row = ~tile.transform @ (p.x, p.y)
        np.testing.assert_allclose(vectors(sampled)[i], tile_values(tile)[int(row), int(col)], atol=1e-7)
    assert sampled["valid"].all() and list(sampled.columns[:3]) == ["plot", "year", "valid"]
    assert list(sampled.columns[3:67]) == list(BAND_NAMES)
