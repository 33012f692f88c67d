"""The process that keeps the release's bytes on disk and serves them to GDAL on loopback (standard library only).

GDAL reads a mirror's files through this server: it answers byte ranges from aligned chunks on disk and fetches
only the missing chunks from the mirror, one request per run of missing chunks, keeping at most ``max_bytes`` and
dropping the least recently used chunks first. It runs in a process of its own, started by ``release_cache``:
GDAL's requests then never wait for a Python thread of the process that called GDAL, which may hold the GIL inside
that call (rasterio's ``ds.overviews()`` does, and a server in the same process then stalled reads for minutes).
It records why a fetch failed, for the parent to put in words; it stops when the parent's end of its stdin closes
(also when the parent dies).

Its parts: ``mirror`` (ranges from the mirror, retried, failures kept), ``chunks`` (the LRU-bounded chunks on
disk), ``handler`` (GDAL's and the parent's HTTP requests, the server and ``main``). Being a child's script, it is
the one place besides ``core.execution`` that starts a thread (its server loop): it cannot import the package.

Run as ``python -I .../release_cache_server/__main__.py FOLDER MAX_BYTES TIMEOUT USER_AGENT`` (``SCRIPT``); it
prints its port on stdout. This package imports only the standard library, and only its own modules, relatively:
the child loads it by path without ``aef_widgets``'s ``__init__`` (NumPy, GDAL, widgets).
"""

from __future__ import annotations

from pathlib import Path

from .chunks import CHUNK, ChunkStore
from .handler import CONTROL, Handler, Server, main, token
from .mirror import RETRY_DELAYS, TRANSIENT, Mirror, UpstreamError

#: The child process's script.
SCRIPT = str(Path(__file__).with_name("__main__.py"))

__all__ = [
    "CHUNK", "CONTROL", "RETRY_DELAYS", "SCRIPT", "TRANSIENT", "ChunkStore", "Handler", "Mirror", "Server",
    "UpstreamError", "main", "token",
]  # fmt: skip
