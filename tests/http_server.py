"""A real static HTTP server on loopback for remote-data tests and benchmarks: byte ranges, counts and faults.

It serves a folder as cloud storage does (``Range: bytes=a-b`` answered with 206, several ranges in one request
answered as ``multipart/byteranges``), counts every request and every body byte it sends, and can add latency,
refuse paths (403/404/500), stall, or cut a file short, so clients are tested against the failures they meet.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit


@dataclass
class ServerLog:
    """What a server was asked for and sent, and the faults it plays; shared by its handler threads."""

    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (path, range or HEAD, user agent)
    bytes_sent: int = 0
    latency: float = 0.0  # seconds added before every answer
    status: dict[str, int] = field(default_factory=dict)  # path suffix -> status to answer with
    stall: set[str] = field(default_factory=set)  # path suffixes answered after ``stall_seconds``
    stall_seconds: float = 30.0
    truncate: dict[str, int] = field(default_factory=dict)  # path suffix -> bytes of the file left
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.bytes_sent = 0

    def paths(self) -> list[str]:
        return [p for p, _, _ in self.requests]

    def _match(self, table, path: str):
        return next((table[k] if isinstance(table, dict) else True for k in table if path.endswith(k)), None)


class RangeHandler(http.server.BaseHTTPRequestHandler):
    """GET and HEAD of files under ``root``, honouring single and multiple byte ranges."""

    protocol_version = "HTTP/1.1"  # keep-alive, as GDAL and real servers use

    def __init__(self, *args, root: Path, log: ServerLog, **kwargs) -> None:
        self.root, self.log = root, log
        super().__init__(*args, **kwargs)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        spec = self.headers.get("Range", "")
        with self.log.lock:
            what = spec or ("whole file" if body else "HEAD")
            self.log.requests.append((path, what, self.headers.get("User-Agent", "")))
        if self.log.latency:
            time.sleep(self.log.latency)
        if self.log._match(self.log.stall, path):
            time.sleep(self.log.stall_seconds)
        status = self.log._match(self.log.status, path)
        file = (self.root / path.lstrip("/")).resolve()
        if status is None and (self.root not in file.parents or not file.is_file()):
            status = 404
        if status is not None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = file.read_bytes()
        cut = self.log._match(self.log.truncate, path)
        if cut is not None:  # a file cut short: its header still points at blocks past its end
            data = data[:cut]
        full = len(data)
        ranges = _parse_ranges(spec, full)
        if any(a >= full for a, _ in ranges):
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{full}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if not ranges:
            self._send(200, {"Content-Type": "application/octet-stream"}, data, body, full)
            return
        if len(ranges) == 1:
            a, b = ranges[0]
            headers = {"Content-Type": "application/octet-stream", "Content-Range": f"bytes {a}-{b}/{full}"}
            self._send(206, headers, data[a : b + 1], body, b - a + 1)
            return
        boundary = "aef-test-boundary"
        parts = b"".join(
            f"--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes {a}-{b}/{full}\r\n\r\n"
            .encode() + data[a : b + 1] + b"\r\n"
            for a, b in ranges
        ) + f"--{boundary}--\r\n".encode()  # fmt: skip
        self._send(206, {"Content-Type": f"multipart/byteranges; boundary={boundary}"}, parts, body, len(parts))

    def _send(self, status: int, headers: dict, data: bytes, body: bool, length: int) -> None:
        self.send_response(status)
        for k, v in {**headers, "Content-Length": str(length), "Accept-Ranges": "bytes"}.items():
            self.send_header(k, v)
        self.end_headers()
        if body:
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                return
            with self.log.lock:
                self.log.bytes_sent += len(data)

    def log_message(self, *args) -> None:  # keep test output clean
        pass


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


@contextmanager
def serve(root: str | os.PathLike, latency: float = 0.0) -> Iterator[tuple[str, ServerLog]]:
    """Serve ``root`` on a free loopback port in a background thread: yields (base URL, log)."""
    log = ServerLog(latency=latency)
    handler = functools.partial(RangeHandler, root=Path(root).resolve(), log=log)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", log
    finally:
        httpd.shutdown()
        httpd.server_close()
