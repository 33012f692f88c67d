"""A bounded on-disk cache of the bytes fetched from a release mirror, served to GDAL by a process of its own.

GDAL's ``/vsicurl/`` keeps what it fetched only in memory and only for this process. To open a place visited
before without the network, GDAL reads the mirror's files through a small HTTP server on 127.0.0.1 that answers
byte ranges from chunks on disk and fetches only the missing ones (``release_cache_server``), at most
``max_bytes`` of them, the least recently used dropped first. That server runs in a child process: a GDAL call
that holds the GIL while it fetches (rasterio's ``ds.overviews()``) then cannot starve it, and its deep listen
queue takes GDAL's parallel band requests. GDAL keeps everything it does well (merging neighbouring ranges,
parallel requests); the cache adds a loopback hop. The server records why a fetch failed (status and the mirror's
answer, stall, refused connection, short file), so errors are put in words, not GDAL's "not a supported format".
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from ..core.errors import SourceError
from ..core.execution import start_thread
from . import release_cache_server as server
from .release_http import STALL_SECONDS, USER_AGENT, http_status_message

CHUNK = server.CHUNK
DEFAULT_MAX_BYTES = 2 * 2**30
#: Seconds a new cache process may take to say its port (a cold interpreter on a loaded machine).
START_SECONDS = 60


class FetchCache:
    """Chunks of remote files on disk, LRU-bounded, behind a loopback server in a child process."""

    def __init__(self, folder: str | os.PathLike, max_bytes: int = DEFAULT_MAX_BYTES, timeout: float = STALL_SECONDS):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_bytes, self.timeout = int(max_bytes), timeout
        # -I: the server needs only the standard library, and nothing of the user's environment may change it
        command = [
            sys.executable,
            "-I",
            server.SCRIPT,
            str(self.folder),
            str(self.max_bytes),
            str(timeout),
            USER_AGENT,
        ]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        port = _read_line(self._process, START_SECONDS)
        if not port.strip().isdigit():
            self._process.kill()
            raise SourceError(f"the release's disk cache in {self.folder} could not start; open it with cache=False")
        self.base = f"http://127.0.0.1:{int(port)}"
        atexit.register(self.close)

    def url_for(self, upstream: str) -> str:
        """The loopback URL GDAL reads ``upstream`` through (it keeps the file name, for GDAL's extension checks)."""
        name = os.path.basename(urlsplit(upstream).path) or "file"
        return f"{self.base}/{server.token(upstream)}/{name}"

    def failure(self, upstream: str) -> str | None:
        """Why the last fetch of ``upstream`` failed, in words; None if it did not."""
        found = self._ask(f"failure/{server.token(upstream)}")
        if not found:
            return None
        return found["message"] or http_status_message(found["status"], upstream, found["body"])

    @property
    def total_bytes(self) -> int:
        return self._ask("stats")["total_bytes"]

    @property
    def upstream_requests(self) -> int:
        return self._ask("stats")["upstream_requests"]

    def read(self, upstream: str, first: int, last: int) -> bytes:
        """Bytes ``first..last`` (inclusive) of a remote file, through the cache (as GDAL reads them)."""
        request = urllib.request.Request(self.url_for(upstream), headers={"Range": f"bytes={first}-{last}"})
        with urllib.request.urlopen(request, timeout=self.timeout + 5) as response:
            return response.read()

    def close(self) -> None:
        """Stop the cache process (closing its stdin is its signal; it is killed if it does not go)."""
        if self._process.poll() is None:
            try:
                self._process.stdin.close()
                self._process.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()

    def _ask(self, what: str):
        with urllib.request.urlopen(f"{self.base}{server.CONTROL}/{what}", timeout=30) as response:
            return json.loads(response.read())


def _read_line(process: subprocess.Popen, timeout: float) -> str:
    """The first line a child prints, or "" if it prints none within ``timeout`` seconds."""
    line: list[bytes] = []
    reader = start_thread(lambda: line.append(process.stdout.readline()), "aef-child-line")
    reader.join(timeout)
    return line[0].decode() if line else ""


_caches: dict[Path, FetchCache] = {}
_caches_lock = threading.Lock()


def shared_cache(
    folder: str | os.PathLike, max_bytes: int = DEFAULT_MAX_BYTES, timeout: float = STALL_SECONDS
) -> FetchCache:
    """One cache (and one cache process) per folder in this process; a new one if its limits change."""
    key = Path(folder).resolve()
    with _caches_lock:
        cache = _caches.get(key)
        if cache is not None and (cache.max_bytes, cache.timeout) != (int(max_bytes), timeout):
            cache.close()
            cache = None
        if cache is None or cache._process.poll() is not None:
            cache = _caches[key] = FetchCache(key, max_bytes, timeout)
        return cache
