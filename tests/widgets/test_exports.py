"""The download link of a saved file declares the file's own media type and carries its bytes."""

from __future__ import annotations

import base64
import re

import pytest

from aef_widgets.widgets.exports import saved_file_html


@pytest.mark.parametrize(
    ("name", "media"),
    [
        ("classes.tif", "image/tiff"),
        ("fields.geojson", "application/geo+json"),  # RFC 7946
        ("fields.parquet", "application/vnd.apache.parquet"),  # IANA, 2024
        ("model.npz", "application/octet-stream"),
    ],
)
def test_a_saved_files_link_declares_its_media_type_and_holds_its_bytes(tmp_path, name, media):
    path = tmp_path / name
    path.write_bytes(b"\x00\x01 some bytes \xff")
    text = saved_file_html(path)
    found = re.search(r'download="([^"]+)" href="data:([^;]+);base64,([^"]+)"', text)
    assert found is not None and found[1] == name and found[2] == media
    assert base64.b64decode(found[3]) == path.read_bytes()
