"""The process that keeps the release's bytes on disk and serves them to GDAL on loopback (standard library only).

GDAL reads a mirror's files through this server: it answers byte ranges from aligned chunks on disk and fetches
only the missing chunks from the mirror, one request per run of missing chunks, keeping at most ``max_bytes`` and
dropping the least recently used chunks first. It runs in a process of its own, started by ``release_cache``:
GDAL's requests then never wait for a Python thread of the process that called GDAL, which may hold the GIL inside
that call (rasterio's ``ds.overviews()`` does, and a server in the same process then stalled reads for minutes).
Its listen queue is deep and it has a thread per connection, so GDAL's dozens of parallel band requests are all
answered (a default ``ThreadingHTTPServer`` queues 5 and dropped the rest). It records why a fetch failed, for
the parent to put in words; it stops when the parent's end of its stdin closes (also when the parent dies).

Run as ``python release_cache_server.py FOLDER MAX_BYTES TIMEOUT USER_AGENT``; it prints its port on stdout.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import http.server
import json
import os
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path
from urllib.parse import urlsplit

#: Chunk size on disk: small enough that a range read fetches little more than it needs.
CHUNK = 128 * 1024
#: Paths of the parent's questions, beside GDAL's ``/<token>/<name>``.
CONTROL = "/_aef_cache"
#: Statuses of a passing failure, and the pauses before trying again (None: give up).
TRANSIENT = (429, 500, 502, 503)
RETRY_DELAYS = (0.3, 1.0, None)


class UpstreamError(Exception):
    """A fetch from the mirror failed: the status to pass on to GDAL, the reason, and the mirror's answer."""

    def __init__(self, status: int, message: str, body: str = "") -> None:
        super().__init__(message)
        self.status, self.body = status, body


class ChunkStore:
    """Chunks of remote files on disk, LRU-bounded, fetched from the mirror when missing."""

    def __init__(self, folder: str | os.PathLike, max_bytes: int, timeout: float, user_agent: str) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_bytes, self.timeout, self.user_agent = int(max_bytes), float(timeout), user_agent
        self.upstream_requests = 0
        self._lock = threading.Lock()
        self._chunks: OrderedDict[Path, int] = OrderedDict()  # least recently used first
        self._total = 0
        self._failures: dict[str, dict] = {}  # url -> {"status", "message", "body"}
        self._fetching: dict[tuple[str, int], threading.Event] = {}  # chunks a thread is fetching now
        self._local = threading.local()
        self._scan()

    def stats(self) -> dict:
        return {"total_bytes": self._total, "upstream_requests": self.upstream_requests, "max_bytes": self.max_bytes}

    def failure(self, url: str) -> dict | None:
        return self._failures.get(url)

    def release_connections(self) -> None:
        """Close this thread's connections to the mirror (its GDAL client has hung up)."""
        for conn in self._local.__dict__.pop("pool", {}).values():
            conn.close()

    def size(self, url: str) -> int:
        """Size of a remote file, from disk or by fetching its first chunk (kept); one fetch for many askers."""
        known = self._known_size(url)
        if known is None:
            mine, theirs = self._claim(url, [0])
            try:
                if theirs:  # another connection is fetching it: its answer serves both
                    theirs[0][1].wait(self.timeout + 5)
                    known = self._known_size(url)
                if known is None:  # ours to fetch, or theirs failed: fetch it, to fail in our own words
                    data, known = self._fetch(url, 0, CHUNK - 1)
                    self._store(url, 0, data, known)
            finally:
                self._release(url, mine)
        return known

    def _known_size(self, url: str) -> int | None:
        try:
            return int((self._dir(url) / "size").read_text())
        except (OSError, ValueError):
            return None

    def read(self, url: str, first: int, last: int) -> bytes:
        """Bytes ``first..last`` (inclusive) of a remote file, fetching only the chunks not on disk."""
        return b"".join(self.parts(url, first, last))

    def parts(self, url: str, first: int, last: int) -> list[memoryview]:
        """``read``'s bytes as views of the chunks, in order: sent as they are, with no copy joining them (a 10 m
        view is 146 MB, and every copy of it costs CPU the two cores' decoding needs)."""
        size = self.size(url)
        if first >= size or last >= size:  # GDAL asks for what the header promises: the file was cut short
            self._failures[url] = {"status": 416, "message": "", "body": ""}
            if first >= size:
                raise UpstreamError(416, "past the end")
        last = min(last, size - 1)
        wanted = range(first // CHUNK, last // CHUNK + 1)
        have = {i: self._load(url, i) for i in wanted}
        mine, theirs = self._claim(url, [i for i, data in have.items() if data is None])
        try:
            for run in _runs(mine):
                self._fetch_run(url, run, size, have)
        finally:
            self._release(url, mine)
        for i, fetched in theirs:  # chunks another connection was fetching: wait for them, never fetch them twice
            fetched.wait(self.timeout + 5)
            have[i] = self._load(url, i)
            if have[i] is None:  # its fetch failed, or the chunk was dropped since
                self._fetch_run(url, [i], size, have)
        views = [memoryview(have[i]) for i in wanted]  # type: ignore[arg-type]
        end = last - wanted[-1] * CHUNK + 1
        views[-1] = views[-1][:end]  # the last first: with one chunk, both cuts fall in it
        views[0] = views[0][first - wanted.start * CHUNK :]
        return views

    def _fetch_run(self, url: str, run: list[int], size: int, have: dict) -> None:
        start, end = run[0] * CHUNK, min(size, (run[-1] + 1) * CHUNK) - 1
        data, _ = self._fetch(url, start, end)
        self._store(url, start, data, size)
        view = memoryview(data)  # chunks as views of the answer, not copies
        for i in run:
            have[i] = view[(i - run[0]) * CHUNK : (i - run[0] + 1) * CHUNK]

    def _claim(self, url: str, chunks: list[int]) -> tuple[list[int], list[tuple[int, threading.Event]]]:
        """Split missing chunks into those this thread fetches and those another is fetching now (to wait for):
        GDAL reads a tile's bands and neighbours on parallel connections, and they often share a chunk."""
        mine, theirs = [], []
        with self._lock:
            for i in chunks:
                event = self._fetching.get((url, i))
                if event is None:
                    self._fetching[(url, i)] = threading.Event()
                    mine.append(i)
                else:
                    theirs.append((i, event))
        return mine, theirs

    def _release(self, url: str, chunks: list[int]) -> None:
        with self._lock:
            for i in chunks:
                self._fetching.pop((url, i)).set()

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
        view = memoryview(data)
        for k in range(0, len(data), CHUNK):
            piece = view[k : k + CHUNK]
            if len(piece) < CHUNK and start + k + len(piece) < size:
                break  # a partial chunk in the middle of the file: not stored, so chunks are always whole
            path = folder / str((start + k) // CHUNK)
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

    def _fetch(self, url: str, first: int, last: int) -> tuple[bytes, int]:
        """Bytes first..last of ``url`` from the mirror and the file's size; UpstreamError if not (recorded)."""
        try:
            data, total = self._get(url, first, last)
        except UpstreamError as e:
            self._failures[url] = {"status": e.status, "message": str(e), "body": e.body}
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
                    self.upstream_requests += 1
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


class Handler(http.server.BaseHTTPRequestHandler):
    """GDAL's side: HEAD and ranged GET of ``/<token>/<name>``; the parent's: ``/_aef_cache/...``."""

    protocol_version = "HTTP/1.1"
    store: ChunkStore

    def handle(self) -> None:
        try:
            super().handle()
        finally:  # one thread per GDAL connection: its mirror connections end with it
            self.store.release_connections()

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        if self.path.startswith(CONTROL):
            self._control()
        else:
            self._answer(body=True)

    def _control(self) -> None:
        what = self.path[len(CONTROL) :].strip("/").split("/")
        answer = self.store.failure(_url(what[1])) if what[0] == "failure" else self.store.stats()
        data = json.dumps(answer).encode()
        self._send(200, {"Content-Type": "application/json"}, [data], len(data))

    def _answer(self, body: bool) -> None:
        url = _url(self.path.split("/")[1])
        store = self.store
        try:
            size = store.size(url)
            ranges = _ranges(self.headers.get("Range", ""), size)
            if not body:
                self._send(200, {}, [], size)
            elif not ranges:
                self._send(200, {}, store.parts(url, 0, size - 1), size)
            elif len(ranges) == 1:
                a, b = ranges[0]
                self._send(206, {"Content-Range": f"bytes {a}-{b}/{size}"}, store.parts(url, a, b), b - a + 1)
            else:
                boundary = "aef-widgets-range"
                parts: list = []
                for a, b in ranges:
                    parts.append(f"--{boundary}\r\nContent-Range: bytes {a}-{b}/{size}\r\n\r\n".encode())
                    parts += [*store.parts(url, a, b), b"\r\n"]
                parts.append(f"--{boundary}--\r\n".encode())
                kind = {"Content-Type": f"multipart/byteranges; boundary={boundary}"}
                self._send(206, kind, parts, sum(len(p) for p in parts))
        except UpstreamError as e:
            self._send(e.status, {}, [], 0)

    def _send(self, status: int, headers: dict, parts: list, length: int) -> None:
        """Answer with the body ``parts`` (bytes or views of chunks), each sent as it is."""
        self.send_response(status)
        for k, v in {"Accept-Ranges": "bytes", **headers, "Content-Length": str(length)}.items():
            self.send_header(k, v)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # GDAL gave up on this request
            for part in parts:
                self.wfile.write(part)

    def log_message(self, *args) -> None:  # GDAL's requests are not the user's business
        pass


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 1024  # GDAL opens a connection per parallel range request: none may be refused
    daemon_threads = True


def token(url: str) -> str:
    return base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def _url(token: str) -> str:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()


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
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # whole or not at all: a reader never sees half a chunk


def main(argv: list[str]) -> None:
    folder, max_bytes, timeout, user_agent = argv
    handler = type(
        "BoundHandler", (Handler,), {"store": ChunkStore(folder, int(max_bytes), float(timeout), user_agent)}
    )
    server = Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.buffer.read()  # until the parent closes our stdin, or dies
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
