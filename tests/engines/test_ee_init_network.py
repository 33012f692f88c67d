"""``ee_init`` with bogus credentials, against real servers on loopback: Google's sign-in (the token endpoint) is
the network boundary, moved to 127.0.0.1. Nothing else is stubbed: the real ``ee.Initialize`` and google-auth run.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import ee
import pytest

from aef_widgets import ee_auth

BOGUS = "1//0bogus-refresh-token"
CLASS_NAMES = ("urllib3", "HTTPSConnectionPool", "Max retries", "Error(", "Exception", "TransportError")


class _Refuses(BaseHTTPRequestHandler):
    """A token endpoint answering as Google's does to a revoked refresh token."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def token_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    ee.Reset()
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("EE_SERVICE_ACCOUNT_KEY", "GOOGLE_APPLICATION_CREDENTIALS", "EARTHENGINE_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("EARTHENGINE_TOKEN", json.dumps({"refresh_token": BOGUS, "project": "p"}))
    monkeypatch.setattr(ee_auth, "_status", "not set up")
    yield
    ee.Reset()


def _use_token_uri(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setattr(ee.oauth, "TOKEN_URI", url)


def test_a_revoked_token_is_explained(token_env, monkeypatch) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuses)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _use_token_uri(monkeypatch, f"http://127.0.0.1:{server.server_port}/token")
        assert ee_auth.ee_init() is False
    finally:
        server.shutdown()
        server.server_close()
    status = ee_auth.ee_status()
    assert "refused the credentials" in status and "earthengine authenticate" in status
    assert BOGUS not in status and not any(name in status for name in CLASS_NAMES)
    assert ee_auth.ee_available() is False


def test_an_unreachable_sign_in_says_could_not_reach_earth_engine(token_env, monkeypatch) -> None:
    with socket.socket() as s:  # a port nobody listens on: connections are refused, and retried for ~40 s
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _use_token_uri(monkeypatch, f"http://127.0.0.1:{port}/token")
    started = time.monotonic()
    assert ee_auth.ee_init(timeout=2) is False
    assert time.monotonic() - started < 5
    status = ee_auth.ee_status()
    assert "could not reach Earth Engine" in status and "network" in status
    assert not any(name in status for name in CLASS_NAMES)


def test_a_sign_in_that_never_answers_is_time_boxed(token_env, monkeypatch) -> None:
    hole = socket.socket()  # accepts connections and never answers them
    hole.bind(("127.0.0.1", 0))
    hole.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        hole.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(hole.accept()[0])
            except OSError:
                continue

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    _use_token_uri(monkeypatch, f"http://127.0.0.1:{hole.getsockname()[1]}/token")
    started = time.monotonic()
    try:
        assert ee_auth.ee_init(timeout=1.5) is False
        elapsed = time.monotonic() - started
        with pytest.raises(ee_auth.EarthEngineError, match=r"could not reach Earth Engine within 1\.5 s"):
            ee_auth.ee_init(timeout=1.5, strict=True)
    finally:
        stop.set()
        acceptor.join()
        for conn in held:  # the abandoned sign-ins now fail and their threads end
            conn.close()
        hole.close()
    assert 1.5 <= elapsed < 5
    assert "could not reach Earth Engine within 1.5 s" in ee_auth.ee_status()
    assert held, "the sign-in never reached the loopback endpoint"
    assert ee_auth.ee_available() is False


def test_an_initialisation_in_the_time_boxed_thread_serves_the_callers_thread(token_env, monkeypatch) -> None:
    # the boundary here is the API discovery and the algorithm list: stubbed as tests/earthengine_offline.py does
    from ee import apitestcase

    monkeypatch.setattr(ee.data, "_install_cloud_api_resource", lambda: None)
    monkeypatch.setattr(ee.data, "getAlgorithms", apitestcase.GetAlgorithms)
    monkeypatch.setattr(ee.deprecation, "_FetchDataCatalogStac", lambda: {})
    assert ee_auth.ee_init() is True, ee_auth.ee_status()
    assert ee_auth.ee_available() is True
    from aef_widgets import EarthEngineSource

    assert isinstance(EarthEngineSource().image(2024), ee.Image)  # graphs build in this thread


def test_a_failure_part_way_leaves_earth_engine_uninitialised(token_env, monkeypatch) -> None:
    monkeypatch.setattr(ee.data, "_install_cloud_api_resource", lambda: None)  # initialize() completes...

    def no_algorithms():  # ...then the algorithm list cannot be fetched
        raise ee.EEException("Earth Engine client library not initialized.")

    monkeypatch.setattr(ee.data, "getAlgorithms", no_algorithms)
    assert ee_auth.ee_init() is False
    assert ee_auth.ee_available() is False
