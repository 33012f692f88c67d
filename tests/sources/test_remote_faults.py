"""A remote file whose server stops answering halfway: that read fails in words, and the source keeps working."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from typing import ClassVar

import numpy as np
import pytest
import rasterio.shutil

from aef_widgets.core.errors import SourceError
from aef_widgets.sources import open_source
from tests.conftest import REAL_INT8
from tests.sources.test_remote import RangeRequests


class Faulty(RangeRequests):
    """Range requests that answer 503 while ``failing`` is set, as an overloaded or vanishing server does."""

    failing: ClassVar[bool] = False

    def send_head(self):
        if Faulty.failing:
            self.requests.append("refused")
            self.send_error(503, "Service Unavailable")
            return None
        return super().send_head()


@pytest.fixture
def faulty_server(tmp_path) -> Iterator[str]:
    # a tiled COG, so pixels come in ranges of their own after the header
    rasterio.shutil.copy(REAL_INT8, tmp_path / "aef_2024.tif", driver="COG", blocksize=32, compress="deflate")
    handler = functools.partial(Faulty, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    Faulty.failing, Faulty.requests = False, []
    yield f"http://127.0.0.1:{httpd.server_address[1]}/aef_2024.tif"
    Faulty.failing = False
    httpd.shutdown()
    httpd.server_close()


def test_a_server_that_stops_answering_fails_that_read_in_words(faulty_server):
    source = open_source(faulty_server)  # the header is read while the server answers
    Faulty.failing = True
    with pytest.raises(SourceError) as err:
        source.read(None, 2024)
    message = str(err.value)
    assert message.startswith(f"cannot read {faulty_server} (the 2024 data): the server did not send the data")
    assert "try again later" in message and "RasterioIOError" not in message and "CPLE" not in message
    assert "refused" in Faulty.requests
    Faulty.failing = False  # the server is back: the same source reads again
    np.testing.assert_array_equal(source.read(None, 2024).values, open_source(REAL_INT8).read(None, 2024).values)


_STALE_READ = """
import functools, http.server, sys, threading
import numpy as np, pyogrio, rasterio
from aef_widgets.sources.gdal_env import forget_fetched, gdal_env
from tests.sources.test_remote import RangeRequests

pyogrio.list_drivers()  # pyogrio's own GDAL is now loaded in this process, beside rasterio's
folder = sys.argv[1]
handler = functools.partial(RangeRequests, directory=folder)
httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
threading.Thread(target=httpd.serve_forever, daemon=True).start()
path = f"/vsicurl/http://127.0.0.1:{httpd.server_address[1]}/x.tif"

def write(value):
    profile = dict(driver="GTiff", width=64, height=64, count=1, dtype="uint8", crs="EPSG:32616",
                   transform=rasterio.Affine(10, 0, 500000, 0, -10, 4900000))
    with rasterio.open(f"{folder}/x.tif", "w", **profile) as dst:
        dst.write(np.full((1, 64, 64), value, dtype="uint8"))

def read():
    with gdal_env(), rasterio.open(path) as ds:
        return int(ds.read(1)[0, 0])

write(1)
first = read()
write(2)  # the same size and layout: only GDAL's cache of the old bytes can still answer 1
stale = read()
forget_fetched(path)
print(first, stale, read())
httpd.shutdown()
"""


def test_a_retry_forgets_the_bytes_rasterios_gdal_fetched_even_beside_another_gdal(tmp_path):
    """``forget_fetched`` clears the ``/vsicurl/`` cache of the GDAL rasterio uses, not another one.

    pyogrio's wheels bundle a GDAL of their own (3.12 here, rasterio's is 3.10), so once geopandas has read a
    file, a process holds two. Choosing a ``libgdal`` by file name picked pyogrio's, and a release read retried
    after a body cut short met the same cached short bytes (a CI failure of
    ``test_a_cdn_that_fails_once_is_retried_and_read_exactly``). Run in a fresh process, so pyogrio's GDAL is
    loaded before the library is looked up, as it is in an app that read a GeoPackage first."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", _STALE_READ, str(tmp_path)], cwd=root, capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    first, stale, fresh = map(int, out.stdout.split())
    assert (first, stale) == (1, 1), "GDAL did not keep the old bytes: the test would prove nothing"
    assert fresh == 2
