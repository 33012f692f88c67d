"""Handing freed heap memory back to the system after a large transient allocation.

glibc's malloc keeps what a process frees for reuse: after a view is drawn (file codes, GDAL's decoded tiles, each
in the arena of the thread that read it, then the colours and the PNG) some 35 MiB of freed pages stay resident in
a kernel that then sits idle. ``malloc_trim`` returns them. The widgets' job runner calls it once it has
had no job for ``IDLE_TRIM_S``: the pages given back are faulted in again by the next job (18 ms a click when it
trimmed after every job).
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys

#: What an operator sets to bound one kernel's caches (MiB): GDAL's block cache, and the products and view reads
#: each engine remembers. A hub's memory is about (kernel baseline + these) times its visitors.
GDAL_CACHE_ENV, ENGINE_CACHE_ENV = "AEF_WIDGETS_GDAL_CACHE_MB", "AEF_WIDGETS_ENGINE_CACHE_MB"
#: Defaults: GDAL's cache holds only the tiles of the reads in progress (every read opens its dataset); the engine
#: keeps the last view's embeddings of two years and what draws them.
GDAL_CACHE_MB, ENGINE_CACHE_MB = 64, 64


def budget_bytes(env: str, default_mb: int) -> int:
    """A cache's bound in bytes: ``$env`` in MiB when it is a positive number, else the default."""
    try:
        mb = float(os.environ.get(env, ""))
    except ValueError:
        mb = 0.0
    return int((mb if mb > 0 else default_mb) * 2**20)


def nbytes_of(value: object) -> int:
    """The bytes of the arrays a cached value holds (itself, or its attributes and their tuples/lists, one level)."""
    own = getattr(value, "nbytes", None)
    if isinstance(own, int):
        return own
    parts = list(vars(value).values()) if hasattr(value, "__dict__") else []
    if isinstance(value, (tuple, list)):
        parts = list(value)
    total = 0
    for part in parts:
        items = part if isinstance(part, (tuple, list)) else (part,)
        total += sum(x.nbytes for x in items if isinstance(getattr(x, "nbytes", None), int))
    return total


@functools.cache
def _malloc_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        # glibc's own name, so no ldconfig subprocess is spawned to find it; musl has neither name nor malloc_trim
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def release_freed_memory() -> None:
    """Return the free pages of every malloc arena to the system (glibc); a no-op elsewhere."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


#: glibc's mallopt parameters: large arrays always from mmap (returned to the system when freed; left alone,
#: glibc raises the threshold to the largest block freed, up to 32 MiB, and the heap keeps every freed view read),
#: and few arenas (one per thread by default, each keeping its own freed memory).
_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8
MMAP_THRESHOLD_BYTES, MALLOC_ARENAS = 2**20, 2


@functools.cache
def bound_malloc() -> bool:
    """Keep glibc from holding freed arrays (once per process; glibc's own ``MALLOC_*`` variables win)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    if "MALLOC_ARENA_MAX" not in os.environ:
        mallopt(_M_ARENA_MAX, MALLOC_ARENAS)
    return True
