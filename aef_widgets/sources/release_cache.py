"""A bounded on-disk cache of the bytes fetched from a release mirror, served to GDAL on loopback.

GDAL's ``/vsicurl/`` keeps what it fetched only in memory and only for this process. To open a place visited
before without the network, GDAL reads the mirror's files through a small HTTP server on 127.0.0.1 that answers
byte ranges from aligned chunks on disk and fetches only the missing chunks from the mirror, one request per run of
missing chunks. GDAL keeps everything it does well (merging neighbouring ranges, parallel requests); the cache adds
a loopback hop (measured in the benchmarks) and holds at most ``max_bytes``, dropping the least recently used
chunks first. It also knows why a fetch failed (status, stall, refused connection, short file), so errors are put
in words instead of GDAL's "not recognized as a supported file format".
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import http.server
import os
import threading
from collections import OrderedDict
from pathlib import Path
from urllib.parse import urlsplit

from .release_http import STALL_SECONDS, USER_AGENT, http_status_message

#: Chunk size on disk: small enough that a range read fetches little more than it needs.
CHUNK = 128 * 1024
DEFAULT_MAX_BYTES = 2 * 2**30


class UpstreamError(Exception):
    """A fetch from the mirror failed: the status to pass on to GDAL and the reason in words."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class FetchCache:
    """Chunks of remote files on disk, LRU-bounded, with a loopback server GDAL reads through."""

    def __init__(self, folder: str | os.PathLike, max_bytes: int = DEFAULT_MAX_BYTES, timeout: float = STALL_SECONDS):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_bytes = int(max_bytes)
        self.timeout = timeout
        self.upstream_requests = 0
        self._lock = threading.Lock()
        self._chunks: OrderedDict[Path, int] = OrderedDict()  # least recently used first
        self._total = 0
        self._failures: dict[str, str] = {}
        self._local = threading.local()
        self._connections: set[http.client.HTTPConnection] = set()
        self._scan()
        handler = type("Handler", (_Handler,), {"cache": self})
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="aef-release-cache", daemon=True).start()

    # the loopback side ------------------------------------------------------------------------------------
    def url_for(self, upstream: str) -> str:
        """The loopback URL GDAL reads ``upstream`` through (it keeps the file name, for GDAL's extension checks)."""
        token = base64.urlsafe_b64encode(upstream.encode()).decode().rstrip("=")
        name = os.path.basename(urlsplit(upstream).path) or "file"
        return f"http://127.0.0.1:{self._server.server_address[1]}/{token}/{name}"

    def failure(self, upstream: str) -> str | None:
        """Why the last fetch of ``upstream`` failed, in words; None if it did not."""
        return self._failures.get(upstream)

    @property
    def total_bytes(self) -> int:
        return self._total

    def close(self) -> None:
        """Stop the loopback server and close every connection to the mirror."""
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()

    def release_connections(self) -> None:
        """Close this thread's connections to the mirror (its GDAL client has hung up)."""
        for conn in self._local.__dict__.pop("pool", {}).values():
            conn.close()
            with self._lock:
                self._connections.discard(conn)

    # the cache --------------------------------------------------------------------------------------------
    def size(self, url: str) -> int:
        """Size of a remote file, from disk or by fetching its first chunk (which is kept)."""
        meta = self._dir(url) / "size"
        try:
            return int(meta.read_text())
        except (OSError, ValueError):
            pass
        data, total = self._fetch(url, 0, CHUNK - 1, None)
        self._store(url, 0, data, total)
        return total

    def read(self, url: str, first: int, last: int) -> bytes:
        """Bytes ``first..last`` (inclusive) of a remote file, fetching only the chunks not on disk."""
        size = self.size(url)
        if first >= size:
            self._failures[url] = http_status_message(416, url)
            raise UpstreamError(416, self._failures[url])
        if last >= size:  # GDAL asks for what the header promises: a file ending before that was cut short
            self._failures[url] = http_status_message(416, url)
        last = min(last, size - 1)
        wanted = range(first // CHUNK, last // CHUNK + 1)
        have = {i: self._load(url, i) for i in wanted}
        missing = [i for i, data in have.items() if data is None]
        for run in _runs(missing):
            start, end = run[0] * CHUNK, min(size, (run[-1] + 1) * CHUNK) - 1
            data, _ = self._fetch(url, start, end, size)
            self._store(url, start, data, size)
            for i in run:
                have[i] = data[(i - run[0]) * CHUNK : (i - run[0] + 1) * CHUNK]
        blob = b"".join(have[i] for i in wanted)
        offset = wanted.start * CHUNK
        return blob[first - offset : last - offset + 1]

    def _dir(self, url: str) -> Path:
        return self.folder / hashlib.sha256(url.encode()).hexdigest()[:32]

    def _load(self, url: str, i: int) -> bytes | None:
        path = self._dir(url) / str(i)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        with self._lock:
            if path in self._chunks:
                self._chunks.move_to_end(path)
        return data

    def _store(self, url: str, start: int, data: bytes, size: int) -> None:
        folder = self._dir(url)
        folder.mkdir(parents=True, exist_ok=True)
        _write(folder / "size", str(size).encode())
        for k in range(0, len(data), CHUNK):
            piece = data[k : k + CHUNK]
            i = (start + k) // CHUNK
            if len(piece) < CHUNK and start + k + len(piece) < size:
                break  # a partial chunk in the middle of the file: not stored, so chunks are always whole
            path = folder / str(i)
            _write(path, piece)
            with self._lock:
                self._total += len(piece) - self._chunks.pop(path, 0)
                self._chunks[path] = len(piece)
        self._evict()

    def _evict(self) -> None:
        with self._lock:
            while self._total > self.max_bytes and len(self._chunks) > 1:
                path, n = self._chunks.popitem(last=False)
                self._total -= n
                path.unlink(missing_ok=True)

    def _scan(self) -> None:
        found = []
        for folder in self.folder.iterdir():
            if folder.is_dir():
                for f in folder.iterdir():
                    if f.name.isdigit():
                        st = f.stat()
                        found.append((st.st_mtime, f, st.st_size))
        for _, f, n in sorted(found, key=lambda t: t[0]):
            self._chunks[f] = n
            self._total += n
        self._evict()

    # the mirror side --------------------------------------------------------------------------------------
    def _fetch(self, url: str, first: int, last: int, size: int | None) -> tuple[bytes, int]:
        """Bytes first..last of ``url`` from the mirror and the file's size; UpstreamError in words if not."""
        try:
            data, total = self._get(url, first, last)
        except UpstreamError as e:
            self._failures[url] = str(e)
            raise
        self._failures.pop(url, None)
        return data, total

    def _get(self, url: str, first: int, last: int) -> tuple[bytes, int]:
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"Range": f"bytes={first}-{last}", "User-Agent": USER_AGENT}
        for attempt in (0, 1):  # a kept-alive connection the server has closed fails once; then a fresh one
            conn = self._connection(parts.scheme, parts.netloc, fresh=attempt > 0)
            try:
                with self._lock:
                    self.upstream_requests += 1
                conn.request("GET", target, headers=headers)
                response = conn.getresponse()
                body = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                if attempt:
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
            raise UpstreamError(response.status, http_status_message(response.status, url))
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
            with self._lock:
                self._connections.add(conn)
        return conn


class _Handler(http.server.BaseHTTPRequestHandler):
    """GDAL's side: HEAD and ranged GET of ``/<token>/<name>``."""

    protocol_version = "HTTP/1.1"
    cache: FetchCache

    def handle(self) -> None:
        try:
            super().handle()
        finally:  # one thread per GDAL connection: its mirror connections end with it
            self.cache.release_connections()

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, body: bool) -> None:
        token = self.path.split("/")[1]
        url = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        try:
            size = self.cache.size(url)
            ranges = _ranges(self.headers.get("Range", ""), size)
            if not body:
                self._send(200, {}, b"", size)
                return
            if not ranges:
                self._send(200, {}, self.cache.read(url, 0, size - 1), size)
            elif len(ranges) == 1:
                a, b = ranges[0]
                self._send(206, {"Content-Range": f"bytes {a}-{b}/{size}"}, self.cache.read(url, a, b), b - a + 1)
            else:
                boundary = "aef-widgets-range"
                data = (
                    b"".join(
                        f"--{boundary}\r\nContent-Range: bytes {a}-{b}/{size}\r\n\r\n".encode()
                        + self.cache.read(url, a, b)
                        + b"\r\n"
                        for a, b in ranges
                    )
                    + f"--{boundary}--\r\n".encode()
                )
                self._send(206, {"Content-Type": f"multipart/byteranges; boundary={boundary}"}, data, len(data))
        except UpstreamError as e:
            self._send(e.status, {}, b"", 0)

    def _send(self, status: int, headers: dict, data: bytes, length: int) -> None:
        self.send_response(status)
        for k, v in {"Accept-Ranges": "bytes", **headers, "Content-Length": str(length)}.items():
            self.send_header(k, v)
        self.end_headers()
        if data:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # GDAL gave up on this request
                self.wfile.write(data)

    def log_message(self, *args) -> None:  # GDAL's requests are not the user's business
        pass


def _ranges(spec: str, size: int) -> list[tuple[int, int]]:
    if not spec.startswith("bytes="):
        return []
    out = []
    for part in spec[len("bytes=") :].split(","):
        start, _, end = part.strip().partition("-")
        if not start:
            out.append((max(0, size - int(end)), size - 1))
        else:
            out.append((int(start), min(int(end) if end else size - 1, size - 1)))
    return out


def _runs(indexes: list[int]) -> list[list[int]]:
    """Consecutive runs of sorted integers."""
    runs: list[list[int]] = []
    for i in indexes:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{threading.get_ident()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # whole or not at all: a reader never sees half a chunk


_caches: dict[Path, FetchCache] = {}
_caches_lock = threading.Lock()


def shared_cache(
    folder: str | os.PathLike, max_bytes: int = DEFAULT_MAX_BYTES, timeout: float = STALL_SECONDS
) -> FetchCache:
    """One cache (and one loopback server) per folder in this process; the latest limits apply."""
    key = Path(folder).resolve()
    with _caches_lock:
        cache = _caches.get(key)
        if cache is None:
            cache = _caches[key] = FetchCache(key, max_bytes, timeout)
        cache.max_bytes, cache.timeout = int(max_bytes), timeout
        return cache
