"""The GDAL environment every read runs in, and GDAL's failures in words.

One place holds GDAL's settings (threads, block and HTTP caches, range merging, our User-Agent, stall timeouts), the
per-thread choice of decode threads, and the translation of GDAL's messages into what a user can act on.
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import rasterio
from rasterio.errors import RasterioIOError

from ..core.errors import SourceError
from ..core.memory import GDAL_CACHE_ENV, GDAL_CACHE_MB, budget_bytes
from .release_http import CONNECT_SECONDS, STALL_SECONDS, USER_AGENT

#: Environment variable setting ``HTTP_CACHE_BYTES`` in MiB.
HTTP_CACHE_ENV = "AEF_WIDGETS_HTTP_CACHE_MB"
#: Compressed bytes of remote files GDAL keeps in memory (its default is 16 MiB, less than one tile position).
HTTP_CACHE_BYTES = int(float(os.environ.get(HTTP_CACHE_ENV, 256)) * 2**20)
#: GDAL settings for reading COGs locally and over HTTP: decode with every core, never list remote folders,
#: merge neighbouring byte ranges into one request, name ourselves and give up on stalled servers. Reads made from a
#: pool of threads decode with one GDAL thread each (``decode_threads``). Every read opens and closes its dataset,
#: so the block cache only holds the tiles of the reads in progress; its bound is per kernel
#: (``AEF_WIDGETS_GDAL_CACHE_MB``, 64 MiB by default: 512 MiB let a visit's kernel grow by hundreds of MB).
GDAL_OPTIONS = {
    "GDAL_NUM_THREADS": "ALL_CPUS",
    "GDAL_CACHEMAX": budget_bytes(GDAL_CACHE_ENV, GDAL_CACHE_MB),
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "GDAL_HTTP_MULTIRANGE": "YES",
    "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.tiff,.TIF,.TIFF",
    "VSI_CACHE": "TRUE",
    # fetched bytes kept by GDAL for every remote file (an LRU, process-wide): a click's tile position fetched for
    # its pixel is not fetched again for the view around it (a 10 m view of the release is ~150 MB compressed)
    "CPL_VSIL_CURL_CACHE_SIZE": str(HTTP_CACHE_BYTES),
    # HTTP: our own User-Agent (some hosts refuse library defaults), and a stalled server is a timeout, not a hang
    "GDAL_HTTP_USERAGENT": USER_AGENT,
    "GDAL_HTTP_CONNECTTIMEOUT": str(CONNECT_SECONDS),
    "GDAL_HTTP_LOW_SPEED_TIME": str(STALL_SECONDS),
    "GDAL_HTTP_LOW_SPEED_LIMIT": "1",
    "GDAL_HTTP_MAX_RETRY": "2",
    "GDAL_HTTP_RETRY_DELAY": "0.5",
}


def forget_fetched(gdal_path: str) -> None:
    """Drop what GDAL's ``/vsicurl/`` keeps of a remote file (bytes, size, header), so a retry fetches it afresh:
    a body cut short stays in that cache as if the file ended there, and the retry failed the same way."""
    lib = _libgdal()
    if lib is not None:
        lib.VSICurlPartialClearCache(gdal_path.encode())


@functools.cache
def _libgdal() -> ctypes.CDLL | None:
    """The GDAL library rasterio itself uses (rasterio has no binding for ``VSICurlPartialClearCache``), or None
    where it cannot be found (then a retry may meet the stale bytes).

    The symbol is looked up through rasterio's own extension module: ``dlsym`` on that handle searches the module
    and the libraries it was linked to, so it finds rasterio's GDAL even when another package (pyogrio, fiona) has
    loaded a GDAL of its own into the process. Picking a ``libgdal`` by file name cleared the other library's cache,
    and a short read stayed cached for rasterio. The version check refuses any library but rasterio's.
    """
    import rasterio
    import rasterio._base

    try:
        lib = ctypes.CDLL(rasterio._base.__file__)
        lib.VSICurlPartialClearCache.argtypes = [ctypes.c_char_p]
        lib.GDALVersionInfo.argtypes = [ctypes.c_char_p]
        lib.GDALVersionInfo.restype = ctypes.c_char_p
    except (OSError, AttributeError):
        return None
    if lib.GDALVersionInfo(b"RELEASE_NAME").decode() != rasterio.__gdal_version__:
        return None
    return lib


#: What GDAL says when a file ends early or its compressed blocks do not decode.
_DAMAGED = re.compile(
    r"TIFFFillTile|TIFFFillStrip|Read error at|TIFFReadEncoded|IReadBlock failed|truncat|unexpected end|"
    r"Decompression failed|ZIPDecode|LZWDecode|JPEGLib|premature end|TIFFReadDirectory|Failed to read directory",
    re.IGNORECASE,
)
#: Per-thread override of GDAL_NUM_THREADS, set by ``decode_threads``.
_local = threading.local()


@contextmanager
def gdal_env() -> Iterator[None]:
    """The GDAL environment every read runs in."""
    threads = getattr(_local, "threads", None)
    options = GDAL_OPTIONS if threads is None else {**GDAL_OPTIONS, "GDAL_NUM_THREADS": str(threads)}
    with rasterio.Env(**options):
        yield


@contextmanager
def decode_threads(threads: int | str) -> Iterator[None]:
    """Reads made by this thread decode with ``threads`` GDAL threads (a number or "ALL_CPUS") and are not split
    into bands over threads of their own (``parallel_reads`` is then True).

    Callers that already read chunks in a pool of threads use few: GDAL's own threads then mostly compete with the
    pool for the same cores (measured on 2 cores: a pool of 2 single-threaded reads of one tile each is about 30%
    faster than one read decoded by all cores), though two let GDAL decode a multi-tile read straight into place.
    """
    before = getattr(_local, "threads", None)
    _local.threads = threads
    try:
        yield
    finally:
        _local.threads = before


@contextmanager
def read_errors(path: str, year: int | None = None) -> Iterator[None]:
    """GDAL's read failures as a ``SourceError`` that names the file and says what probably happened.

    A failed read fails this one operation: the source, its other files and other years keep working.
    """
    try:
        yield
    except RasterioIOError as e:
        raise SourceError(describe_read_failure(path, e, year)) from e


def describe_read_failure(path: str, error: BaseException, year: int | None = None) -> str:
    """Words for a GDAL read failure: truncated or damaged file, unreachable server, or GDAL's own reason."""
    causes = _causes(error)
    detail = " ".join(causes)
    which = f"{path} (the {year} data)" if year is not None else path
    if "://" in path or path.startswith("/vsi"):  # GDAL reports a failed range request as a short TIFF read
        return (
            f"cannot read {which}: the server did not send the data (it did not answer, refused, or holds a "
            "truncated copy); try again later. Other files and years are not affected."
        )
    if _DAMAGED.search(detail):
        return (
            f"cannot read {which}: the file looks truncated or damaged (a download or copy cut short?); download or "
            "copy it again. Other files and years are not affected."
        )
    return f"cannot read {which}: {_last_reason(causes)}"


def gdal_reason(error: BaseException) -> str:
    """GDAL's own words for why an operation failed (its innermost message), without exception class names."""
    return _last_reason(_causes(error))


def _causes(error: BaseException) -> list[str]:
    causes = []
    cause: BaseException | None = error
    while cause is not None and len(causes) < 8:
        causes.append(str(cause))
        cause = cause.__cause__ or cause.__context__
    return causes


def _last_reason(causes: list[str]) -> str:
    """GDAL's innermost message, the most specific one, shortened."""
    reason = next((c for c in reversed(causes) if c and "see previous exception" not in c.lower()), "read failed")
    return reason if len(reason) <= 160 else reason[:157] + "..."


def parallel_reads() -> bool:
    """True inside ``decode_threads``: this thread's caller already reads in parallel, or chose GDAL's threads."""
    return getattr(_local, "threads", None) is not None
