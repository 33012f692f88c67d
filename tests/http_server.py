"""A real static HTTP server on loopback that behaves like a CDN: byte ranges, many connections, latency, faults.

It serves a folder as cloud storage does (``Range: bytes=a-b`` answered with 206, several ranges in one request
answered as ``multipart/byteranges``), accepts as many concurrent connections as a CDN edge (a listen backlog of
1024, one thread per connection; Python's default backlog of 5 drops GDAL's parallel band requests), counts every
request and body byte it sends, and plays what real hosts do: latency per request, a bandwidth cap shared by all
connections, refusals (any status, with a body such as Google's ``UserProjectMissing``), a number of 500s before
success, connections reset before an answer, bodies cut short, stalls, files cut short.

``serve(root, process=True)`` runs it in a child process, as a real server is: a client that holds the GIL inside
a GDAL call (rasterio's ``ds.overviews()`` does) cannot then starve it. Its log is read and its faults set through
the same ``ServerLog``-like object (``RemoteLog``), over a control path on the same port.
"""

from __future__ import annotations

import functools
import http.server
import json
import multiprocessing
import os
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

CONTROL = "/__aef_test_server__"
#: What Google Cloud Storage answers an anonymous request to a requester-pays bucket (HTTP 400).
USER_PROJECT_MISSING = (
    b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>UserProjectMissing</Code><Message>Bucket is a requester "
    b"pays bucket but no user project provided.</Message></Error>"
)
_FAULTS = ("latency", "bandwidth", "status", "bodies", "flaky", "resets", "short", "stall", "stall_seconds", "truncate")


def byte_ranges(requests: list[tuple[str, str, str]]) -> list[tuple[int, int]]:
    """The (first, last) bytes of every range a log's requests asked for, in the order asked (HEADs have none)."""
    out = []
    for _, spec, _ in requests:
        if spec.startswith("bytes="):
            for part in spec[6:].split(","):
                a, _, b = part.strip().partition("-")
                out.append((int(a), int(b)))
    return out


@dataclass
class ServerLog:
    """What a server was asked for and sent, and the faults it plays; shared by its handler threads."""

    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (path, range or HEAD, user agent)
    bytes_sent: int = 0
    max_concurrent: int = 0  # most requests being answered at once
    latency: float = 0.0  # seconds added before every answer
    bandwidth: float = 0.0  # bytes per second for all connections together; 0 is no cap
    status: dict[str, int] = field(default_factory=dict)  # path suffix -> status to answer with
    bodies: dict[str, str] = field(default_factory=dict)  # path suffix -> body of that status answer (text)
    flaky: dict[str, int] = field(default_factory=dict)  # path suffix -> 500s still to answer before success
    resets: dict[str, int] = field(default_factory=dict)  # path suffix -> connections still to reset unanswered
    short: dict[str, int] = field(default_factory=dict)  # path suffix -> answers still to cut to half their body
    stall: set[str] = field(default_factory=set)  # path suffixes answered after ``stall_seconds``
    stall_seconds: float = 30.0
    truncate: dict[str, int] = field(default_factory=dict)  # path suffix -> bytes of the file left
    lock: threading.Lock = field(default_factory=threading.Lock)
    _active: int = 0
    _tokens_at: float = 0.0  # when the bandwidth cap next has a byte to spend

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.bytes_sent = 0
            self.max_concurrent = 0

    def paths(self) -> list[str]:
        return [p for p, _, _ in self.requests]

    def configure(self, **faults) -> None:
        """Set faults (the fields above) by name; the same call works on a server in another process."""
        with self.lock:
            for name, value in faults.items():
                if name not in _FAULTS:
                    raise TypeError(f"unknown fault {name!r}")
                setattr(self, name, set(value) if name == "stall" else value)

    def _match(self, table, path: str):
        return next((table[k] if isinstance(table, dict) else True for k in table if path.endswith(k)), None)

    def _take(self, table: dict[str, int], path: str) -> bool:
        """Whether a counted fault applies to this request (and count it down)."""
        with self.lock:
            key = next((k for k in table if path.endswith(k) and table[k] > 0), None)
            if key is not None:
                table[key] -= 1
            return key is not None

    def _spend(self, n: int) -> None:
        """Wait until the shared bandwidth cap lets ``n`` more bytes go."""
        if not self.bandwidth:
            return
        with self.lock:
            start = max(time.monotonic(), self._tokens_at)
            self._tokens_at = start + n / self.bandwidth
        time.sleep(max(0.0, self._tokens_at - time.monotonic()))


class RangeHandler(http.server.BaseHTTPRequestHandler):
    """GET and HEAD of files under ``root``, honouring single and multiple byte ranges."""

    protocol_version = "HTTP/1.1"  # keep-alive, as GDAL and real servers use

    def __init__(self, *args, root: Path, log: ServerLog, **kwargs) -> None:
        self.root, self.log = root, log
        super().__init__(*args, **kwargs)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        if self.path.startswith(CONTROL):
            self._control()
            return
        with self.log.lock:
            self.log._active += 1
            self.log.max_concurrent = max(self.log.max_concurrent, self.log._active)
        try:
            self._answer(body=True)
        finally:
            with self.log.lock:
                self.log._active -= 1

    def do_POST(self) -> None:
        if self.path.startswith(CONTROL):
            self.log.configure(**json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self._send(200, {}, b"", True, 0)

    def _control(self) -> None:
        log = self.log
        if self.path.endswith("/reset"):
            log.reset()
        with log.lock:
            state = {"requests": log.requests, "bytes_sent": log.bytes_sent, "max_concurrent": log.max_concurrent}
            data = json.dumps(state).encode()
        self._send(200, {"Content-Type": "application/json"}, data, True, len(data))

    def _answer(self, body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        spec = self.headers.get("Range", "")
        log = self.log
        with log.lock:
            log.requests.append((path, spec or ("whole file" if body else "HEAD"), self.headers.get("User-Agent", "")))
        if log.latency:
            time.sleep(log.latency)
        if log._match(log.stall, path):
            time.sleep(log.stall_seconds)
        if log._take(log.resets, path):  # the connection dies before an answer (a reset, not a clean close)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.close_connection = True
            self.connection.close()
            return
        status = log._match(log.status, path) or (500 if log._take(log.flaky, path) else None)
        file = (self.root / path.lstrip("/")).resolve()
        if status is None and (self.root not in file.parents or not file.is_file()):
            status = 404
        if status is not None:
            text = (log._match(log.bodies, path) or "").encode()
            self._send(status, {"Content-Type": "application/xml"} if text else {}, text, body, len(text))
            return
        full = file.stat().st_size
        cut = log._match(log.truncate, path)
        if cut is not None:  # a file cut short: its header still points at blocks past its end
            full = min(full, cut)
        ranges = _parse_ranges(spec, full)
        if any(a >= full for a, _ in ranges):
            self._send(416, {"Content-Range": f"bytes */{full}"}, b"", body, 0)
            return
        with open(file, "rb") as opened:  # only the bytes asked for: files are hundreds of MB

            def data(a: int, b: int) -> bytes:
                opened.seek(a)
                return opened.read(b - a + 1)

            if not ranges:
                whole = data(0, full - 1) if body else b""  # a HEAD reads nothing: files are hundreds of MB
                self._send(200, {"Content-Type": "application/octet-stream"}, whole, body, full)
                return
            if len(ranges) == 1:
                a, b = ranges[0]
                headers = {"Content-Type": "application/octet-stream", "Content-Range": f"bytes {a}-{b}/{full}"}
                self._send(206, headers, data(a, b), body, b - a + 1)
                return
            boundary = "aef-test-boundary"
            parts = b"".join(
                f"--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes {a}-{b}/{full}\r\n\r\n"
                .encode() + data(a, b) + b"\r\n"
                for a, b in ranges
            ) + f"--{boundary}--\r\n".encode()  # fmt: skip
        self._send(206, {"Content-Type": f"multipart/byteranges; boundary={boundary}"}, parts, body, len(parts))

    def _send(self, status: int, headers: dict, data: bytes, body: bool, length: int) -> None:
        self.send_response(status)
        for k, v in {**headers, "Content-Length": str(length), "Accept-Ranges": "bytes"}.items():
            self.send_header(k, v)
        self.end_headers()
        if not body or not data:
            return
        if status < 300 and self.log._take(self.log.short, unquote(urlsplit(self.path).path)):
            data = data[: len(data) // 2]  # the body ends early, and the connection with it
            self.close_connection = True
        counted = not self.path.startswith(CONTROL)  # the log's own answers are not traffic
        try:
            for k in range(0, len(data), 1 << 16):
                piece = data[k : k + (1 << 16)]
                if counted:
                    self.log._spend(len(piece))
                self.wfile.write(piece)
                with self.log.lock:
                    self.log.bytes_sent += len(piece) if counted else 0
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            return

    def log_message(self, *args) -> None:  # keep test output clean
        pass


class CDNServer(http.server.ThreadingHTTPServer):
    """One thread per connection and a deep listen queue, so bursts of parallel connections are all answered."""

    request_queue_size = 1024
    daemon_threads = True


def _parse_ranges(spec: str, size: int) -> list[tuple[int, int]]:
    """(first, last) byte pairs of a ``bytes=`` header, clipped to the file."""
    if not spec.startswith("bytes="):
        return []
    out = []
    for part in spec[len("bytes=") :].split(","):
        start, _, end = part.strip().partition("-")
        if start == "":  # a suffix range: the last N bytes
            a, b = max(0, size - int(end)), size - 1
        else:
            a, b = int(start), min(int(end) if end else size - 1, size - 1)
        out.append((a, b))
    return out


class RemoteLog:
    """The log of a server in another process: the same reads (``requests``, ``bytes_sent``, ``paths()``,
    ``max_concurrent``), ``reset()`` and ``configure(**faults)``, each one request to its control path."""

    def __init__(self, url: str) -> None:
        self._url = url + CONTROL

    def _state(self, suffix: str = "") -> dict:
        with urllib.request.urlopen(self._url + suffix, timeout=30) as r:
            return json.loads(r.read())

    @property
    def requests(self) -> list[tuple[str, str, str]]:
        return [tuple(r) for r in self._state()["requests"]]

    @property
    def bytes_sent(self) -> int:
        return self._state()["bytes_sent"]

    @property
    def max_concurrent(self) -> int:
        return self._state()["max_concurrent"]

    def paths(self) -> list[str]:
        return [p for p, _, _ in self.requests]

    def reset(self) -> None:
        self._state("/reset")

    def configure(self, **faults) -> None:
        data = json.dumps({k: list(v) if isinstance(v, set) else v for k, v in faults.items()}).encode()
        urllib.request.urlopen(urllib.request.Request(self._url, data=data, method="POST"), timeout=30).close()


def _run(root: str, latency: float, bandwidth: float, ready) -> None:
    log = ServerLog(latency=latency, bandwidth=bandwidth)
    httpd = CDNServer(("127.0.0.1", 0), functools.partial(RangeHandler, root=Path(root).resolve(), log=log))
    ready.send(httpd.server_address[1])
    httpd.serve_forever()


@contextmanager
def serve(
    root: str | os.PathLike, latency: float = 0.0, process: bool = False, bandwidth: float = 0.0
) -> Iterator[tuple[str, ServerLog | RemoteLog]]:
    """Serve ``root`` on a free loopback port: yields (base URL, log). In a thread of this process, or with
    ``process=True`` in a child process (its log then a ``RemoteLog``)."""
    if process:
        context = multiprocessing.get_context("spawn")  # no fork of a process holding GDAL's threads
        ours, theirs = context.Pipe()
        child = context.Process(target=_run, args=(os.fspath(root), latency, bandwidth, theirs), daemon=True)
        child.start()
        try:
            if not ours.poll(60):
                raise RuntimeError("the test server process did not start")
            url = f"http://127.0.0.1:{ours.recv()}"
            yield url, RemoteLog(url)
        finally:
            child.kill()
            child.join()
        return
    log = ServerLog(latency=latency, bandwidth=bandwidth)
    handler = functools.partial(RangeHandler, root=Path(root).resolve(), log=log)
    httpd = CDNServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", log
    finally:
        httpd.shutdown()
        httpd.server_close()
