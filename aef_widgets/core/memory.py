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
import sys


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
