"""Remote COGs through GDAL's /vsicurl/: served over HTTP on loopback, read like local files."""

from __future__ import annotations

import functools
import http.server
import io
import threading
from collections.abc import Iterator
from typing import ClassVar

import numpy as np
import pytest

from aef_widgets.core.aoi import AOI
from aef_widgets.sources import open_source
from tests.conftest import REAL_DIR, REAL_INT8


class RangeRequests(http.server.SimpleHTTPRequestHandler):
    """A static file server that honours byte ranges, as cloud storage does (GDAL reads COGs by range)."""

    requests: ClassVar[list[str]] = []  # shared by the handler instances of one server

    def send_head(self):
        self.requests.append(self.headers.get("Range", "whole file"))
        spec = self.headers.get("Range")
        path = self.translate_path(self.path)
        if not spec or not spec.startswith("bytes="):
            return super().send_head()
        with open(path, "rb") as f:
            data = f.read()
        start, _, end = spec[len("bytes=") :].partition("-")
        start, end = int(start), min(int(end) if end else len(data) - 1, len(data) - 1)
        self.send_response(206)
        self.send_header("Content-Type", "image/tiff")
        self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        return io.BytesIO(data[start : end + 1])

    def log_message(self, *args) -> None:  # keep test output clean
        pass


@pytest.fixture
def server() -> Iterator[str]:
    handler = functools.partial(RangeRequests, directory=str(REAL_DIR))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    RangeRequests.requests = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_url_reads_like_the_local_file(server):
    remote = open_source(f"{server}/{REAL_INT8.name}")
    local = open_source(REAL_INT8)
    assert remote.years == (2024,) and remote.footprint == local.footprint
    west, south, east, north = local.footprint.lonlat_bounds()
    aoi = AOI.from_bounds(west + 0.002, south + 0.002, east - 0.004, north - 0.003)
    np.testing.assert_array_equal(remote.read(aoi, 2024).values, local.read(aoi, 2024).values)
    point = [((west + east) / 2, (south + north) / 2)]
    np.testing.assert_array_equal(remote.sample(point, 2024), local.sample(point, 2024))
    assert any(r.startswith("bytes=") for r in RangeRequests.requests)  # GDAL asked for byte ranges
