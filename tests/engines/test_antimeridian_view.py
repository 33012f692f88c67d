"""A source straddling 180°: the map opens on it and its overlay is drawn across the antimeridian."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer
from rasterio.crs import CRS

from aef_widgets import open_source
from aef_widgets.core.grid import transform_bounds
from aef_widgets.engines import LocalEngine
from aef_widgets.rendering.overlay import leaflet_bounds
from aef_widgets.rendering.view import LONLAT, WEB_MERCATOR, MapView
from tests.conftest import write_like

UTM60S = CRS.from_epsg(32760)


@pytest.fixture
def fiji(tmp_path, real_int8):
    x, y = Transformer.from_crs(4326, UTM60S, always_xy=True).transform(180, -17)
    left, top = round(x / 10) * 10 - 480, round(y / 10) * 10 + 480
    with rasterio.open(real_int8) as ds:
        data = ds.read()
    transform = Affine(10, 0, left, 0, -10, top)
    return open_source(write_like(tmp_path / "fiji_2024.tif", real_int8, data, crs=UTM60S, transform=transform))


def test_the_view_the_map_opens_on_draws_the_whole_source(fiji):
    lon, lat = fiji.footprint.center_lonlat
    assert lon == pytest.approx(180, abs=0.005)  # where the map opens; not 0
    view = MapView(lon - 0.02, lat - 0.02, lon + 0.02, lat + 0.02, 800, 800)
    field, resampler = LocalEngine(fiji).view_field(2024, view)
    assert field.grid.shape == (96, 96) and field.mask.all()  # native pixels, all of them
    (south, west), (north, east) = leaflet_bounds(resampler.dst)
    assert west < 180 < east and east - west < 0.02  # one overlay across the antimeridian, as Leaflet places it
    assert (~resampler.outside).mean() > 0.9


def test_view_scale_is_web_mercator_metres(fiji):
    view = MapView(-88.9, 44.2, -88.7, 44.4, 800, 600)
    left, _, right, _ = transform_bounds(view.bounds, LONLAT, WEB_MERCATOR)
    assert view.metres_per_px == pytest.approx((right - left) / 800, rel=1e-12)
    across = MapView(179.9, -17.1, 180.1, -16.9, 800, 800)
    assert across.metres_per_px == pytest.approx(MapView(-0.1, -17.1, 0.1, -16.9, 800, 800).metres_per_px)
    np.testing.assert_allclose(
        across.overlay_grid((179.95, -17.05, 180.05, -16.95)).lonlat_bounds(),
        (179.95, -17.05, 180.05, -16.95),
        atol=0.001,
    )  # the grid is whole pixels, so it reaches a little further
