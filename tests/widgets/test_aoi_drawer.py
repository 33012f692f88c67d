"""AOIDrawer: draw events, the view, GeoJSON files, and clearing that always sticks."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import pytest
from pyproj import Geod

from aef_widgets.widgets import AOIDrawer
from tests.widgets.frontend import draw, rectangle, send_state

NOW = datetime.now(timezone.utc)


def box(source):
    west, south, east, north = source.footprint.lonlat_bounds()
    return west + 0.002, south + 0.002, east - 0.004, north - 0.003


def test_drawing_sets_the_aoi_with_its_area_and_pixels(state, fresh_map, runner, real_source):
    drawer = AOIDrawer(state, map=fresh_map, runner=runner)
    draw(drawer.draw_control, rectangle(*box(real_source)))
    assert state.aoi is not None and drawer.value == state.aoi
    pixels = np.count_nonzero(state.aoi.mask(real_source.grid(state.aoi)))
    assert f"{state.aoi.area_km2:,.2f} km²" in drawer.info.value
    assert f"{pixels:,} pixels at 10 m" in drawer.info.value
    assert pixels == pytest.approx(state.aoi.area_km2 * 1e4, rel=0.03)
    assert [x.name for x in fresh_map.layers].count("AOI") == 1


def test_clearing_always_sticks(state, fresh_map, runner, real_source):
    drawer = AOIDrawer(state, map=fresh_map, runner=runner)
    first = rectangle(*box(real_source))
    draw(drawer.draw_control, first)
    drawer.clear.click()
    assert state.aoi is None and "AOI" not in [x.name for x in fresh_map.layers]
    # the frontend echoes stale shapes after a clear; they must not come back
    send_state(drawer.draw_control, {"data": [{"type": "Feature", "properties": {}, "geometry": first}]})
    assert state.aoi is None
    west, south, east, north = box(real_source)
    second = rectangle(west, south, (west + east) / 2, north)
    draw(drawer.draw_control, second)
    drawer.clear.click()
    draw(drawer.draw_control, second)
    assert state.aoi.geometry["coordinates"][0][0] == second["coordinates"][0][0]
    assert [x.name for x in fresh_map.layers].count("AOI") == 1


def test_use_view_clips_to_the_data(state, fresh_map, runner, real_source):
    drawer = AOIDrawer(state, map=fresh_map, runner=runner)
    drawer.use_view.click()
    west, south, east, north = real_source.footprint.lonlat_bounds()
    got = state.aoi.bounds
    assert got[0] >= west - 1e-9 and got[2] <= east + 1e-9 and got[1] >= south - 1e-9 and got[3] <= north + 1e-9


def test_geojson_upload(state, runner, real_source):
    drawer = AOIDrawer(state, runner=runner)
    feature = {"type": "Feature", "properties": {}, "geometry": rectangle(*box(real_source))}
    content = json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()
    drawer.upload.value = ({"name": "aoi.geojson", "type": "application/geo+json", "size": len(content),
                            "content": memoryview(content), "last_modified": NOW},)  # fmt: skip
    west, south, east, north = box(real_source)
    area, _ = Geod(ellps="WGS84").polygon_area_perimeter([west, east, east, west], [south, south, north, north])
    assert state.aoi.area_km2 == pytest.approx(abs(area) / 1e6, rel=1e-6)


@pytest.mark.parametrize(
    "content, message",
    [(b"\xff\xfe\x00", "not text GeoJSON"), (b'{"type": "Point", "coordinates": [0, 0]}', "no Polygon")],
)
def test_bad_geojson_is_explained(state, runner, content, message):
    drawer = AOIDrawer(state, runner=runner)
    drawer.upload.value = ({"name": "x.geojson", "type": "", "size": len(content), "content": memoryview(content),
                            "last_modified": NOW},)  # fmt: skip
    assert state.aoi is None and message in drawer.status.value


def test_aoi_outside_the_data_is_described(state, runner):
    from aef_widgets.core.aoi import AOI

    drawer = AOIDrawer(state, runner=runner)
    state.aoi = AOI.from_bounds(10, 10, 10.1, 10.1)
    assert "outside the data" in drawer.info.value
