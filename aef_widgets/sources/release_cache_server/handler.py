"""The cache server's loopback HTTP side: GDAL's HEAD and ranged GETs, the parent's questions, and the server.

GDAL reads ``/<token>/<name>`` (the token is the mirror's URL, the name keeps GDAL's extension checks happy) with
single and multi-range requests; the answer is sent as views of the chunks, never joined into one copy. The parent
asks ``/_aef_cache/stats`` and ``/_aef_cache/failure/<token>``. The listen queue is deep and there is a thread per
connection, so GDAL's dozens of parallel band requests are all answered (a default ``ThreadingHTTPServer`` queues
5 and dropped the rest). Standard library only: this runs in the cache's child process.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import os
import sys
import threading

from .chunks import ChunkStore
from .mirror import UpstreamError

#: Paths of the parent's questions, beside GDAL's ``/<token>/<name>``.
CONTROL = "/_aef_cache"


class Handler(http.server.BaseHTTPRequestHandler):
    """GDAL's side: HEAD and ranged GET of ``/<token>/<name>``; the parent's: ``/_aef_cache/...``."""

    protocol_version = "HTTP/1.1"
    store: ChunkStore

    def handle(self) -> None:
        try:
            super().handle()
        finally:  # one thread per GDAL connection: its mirror connections end with it
            self.store.mirror.release_connections()

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        if self.path.startswith(CONTROL):
            self._control()
        else:
            self._answer(body=True)

    def _control(self) -> None:
        what = self.path[len(CONTROL) :].strip("/").split("/")
        answer = self.store.mirror.failure(_url(what[1])) if what[0] == "failure" else self.store.stats()
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
