"""The mirror's side of the cache server: byte ranges fetched over kept-alive connections, retried, failures kept.

Each server thread (one per GDAL connection) keeps its own connection per mirror host and closes them when its GDAL
client hangs up. A CDN's passing failure (429, 5xx, a body cut short) is tried again twice, since GDAL does not
retry the ranges of a multi-range read; a connection the server closed is opened afresh. Why the last fetch of a
URL failed (status, words, the mirror's answer) is kept for the parent to put in words. Standard library only: this
runs in the cache's child process.
"""

from __future__ import annotations

import http.client
import threading
import time
from urllib.parse import urlsplit

#: Statuses of a passing failure, and the pauses before trying again (None: give up).
TRANSIENT = (429, 500, 502, 503)
RETRY_DELAYS = (0.3, 1.0, None)


class UpstreamError(Exception):
    """A fetch from the mirror failed: the status to pass on to GDAL, the reason, and the mirror's answer."""

    def __init__(self, status: int, message: str, body: str = "") -> None:
        super().__init__(message)
        self.status, self.body = status, body


class Mirror:
    """Ranges of the mirror's files, with this thread's connections kept alive and the last failure per URL."""

    def __init__(self, timeout: float, user_agent: str) -> None:
        self.timeout, self.user_agent = float(timeout), user_agent
        self.requests = 0
        self._lock = threading.Lock()
        self._failures: dict[str, dict] = {}  # url -> {"status", "message", "body"}
        self._local = threading.local()

    def failure(self, url: str) -> dict | None:
        return self._failures.get(url)

    def record_failure(self, url: str, status: int, message: str = "", body: str = "") -> None:
        self._failures[url] = {"status": status, "message": message, "body": body}

    def release_connections(self) -> None:
        """Close this thread's connections to the mirror (its GDAL client has hung up)."""
        for conn in self._local.__dict__.pop("pool", {}).values():
            conn.close()

    def fetch(self, url: str, first: int, last: int) -> tuple[bytes, int]:
        """Bytes first..last of ``url`` from the mirror and the file's size; UpstreamError if not (recorded)."""
        try:
            data, total = self._get(url, first, last)
        except UpstreamError as e:
            self.record_failure(url, e.status, str(e), e.body)
            raise
        self._failures.pop(url, None)
        return data, total

    def _get(self, url: str, first: int, last: int) -> tuple[bytes, int]:
        """One range from the mirror; a CDN's passing failure (5xx, a body cut short) is tried again twice, since
        GDAL does not retry the ranges of a multi-range read: one 500 would fail the whole read."""
        for delay in RETRY_DELAYS:
            try:
                return self._get_once(url, first, last)
            except UpstreamError as e:
                if e.status not in TRANSIENT or delay is None:
                    raise
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _get_once(self, url: str, first: int, last: int) -> tuple[bytes, int]:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"Range": f"bytes={first}-{last}", "User-Agent": self.user_agent}
        for attempt in (0, 1, 2):  # a kept-alive connection the server closed, or a reset: try afresh, twice
            conn = self._connection(parts.scheme, parts.netloc, fresh=attempt > 0)
            try:
                with self._lock:
                    self.requests += 1
                conn.request("GET", target, headers=headers)
                response = conn.getresponse()
                body = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                if attempt == 2:
                    raise UpstreamError(502, f"the server for {url} closed the connection: {e}") from e
            except TimeoutError as e:
                conn.close()
                raise UpstreamError(504, f"the server stalled: no data for {self.timeout:g} s from {url}") from e
            except http.client.IncompleteRead as e:
                conn.close()
                raise UpstreamError(502, f"{url} arrived truncated: the server ended the answer early") from e
            except OSError as e:  # refused, unreachable, unknown host
                conn.close()
                raise UpstreamError(502, f"cannot reach the server for {url} (is it down, or are you offline?)") from e
        if response.status == 200:
            return body[first : last + 1], len(body)  # a server that ignores ranges sends the whole file
        if response.status != 206:
            raise UpstreamError(response.status, "", body[:2000].decode("utf-8", "replace"))
        total = int(response.headers.get("Content-Range", "*/0").rsplit("/", 1)[1] or 0)
        if len(body) < min(last, total - 1) - first + 1:
            raise UpstreamError(502, f"{url} arrived truncated: {len(body)} bytes where more were due")
        return body, total

    def _connection(self, scheme: str, netloc: str, fresh: bool) -> http.client.HTTPConnection:
        pool = self._local.__dict__.setdefault("pool", {})
        conn = pool.get((scheme, netloc))
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            conn = pool[(scheme, netloc)] = kind(netloc, timeout=self.timeout)
        return conn
