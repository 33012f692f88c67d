"""An uploaded file is content: text naming a server file is never opened, and oversize uploads are refused."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from aef_widgets.widgets import AOIDrawer

NOW = datetime.now(timezone.utc)


def upload(drawer: AOIDrawer, content: bytes) -> None:
    drawer.upload.value = ({"name": "aoi.geojson", "type": "", "size": len(content), "content": memoryview(content),
                            "last_modified": NOW},)  # fmt: skip


def test_an_upload_naming_a_server_file_is_not_opened(state, runner, tmp_path):
    server_file = tmp_path / "only_the_server_has_this.geojson"
    west, south, east, north = state.source.footprint.lonlat_bounds()
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    server_file.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}))
    drawer = AOIDrawer(state, runner=runner)
    upload(drawer, str(server_file).encode())
    assert state.aoi is None
    assert "not valid GeoJSON" in drawer.status.value and "only_the_server" not in drawer.status.value


@pytest.mark.parametrize(
    "content, message",
    [
        (b"[1,2,3]", "not a list"),
        (b"[" * 100_000 + b"]" * 100_000, "nested far too deeply"),
        (b'{"type": "Polygon", "crs": {"type": "name", "properties": {"name": "EPSG:3857"}}, "coordinates": []}',
         "reproject it"),
    ],
)  # fmt: skip
def test_bad_uploads_are_explained(state, runner, content, message):
    drawer = AOIDrawer(state, runner=runner)
    upload(drawer, content)
    assert state.aoi is None and message in drawer.status.value


def test_an_oversize_upload_is_refused_before_parsing(state, runner):
    drawer = AOIDrawer(state, runner=runner)
    upload(drawer, b" " * (10 * 2**20 + 1))  # would parse as empty; the size alone refuses it
    assert state.aoi is None and "10.0 MB; GeoJSON AOIs up to 10 MB" in drawer.status.value


def test_an_upload_with_a_byte_order_mark_loads(state, runner):
    west, south, east, north = state.source.footprint.lonlat_bounds()
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    content = b"\xef\xbb\xbf\n  " + json.dumps({"type": "Polygon", "coordinates": [ring]}).encode()
    drawer = AOIDrawer(state, runner=runner)
    upload(drawer, content)
    assert state.aoi is not None and drawer.status.value == ""
