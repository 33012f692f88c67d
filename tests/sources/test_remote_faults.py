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
