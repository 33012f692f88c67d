"""Freed heap memory goes back to the system where the C library allows it, and nothing fails where it does not."""

from __future__ import annotations

import platform
import sys

import numpy as np

from aef_widgets.core import memory


def test_release_freed_memory_trims_glibc_heaps_and_is_harmless_elsewhere(monkeypatch):
    blocks = [np.ones(50_000) for _ in range(200)]  # below the mmap threshold: on the heap, kept when freed
    del blocks[::2]
    memory.release_freed_memory()
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert memory._malloc_trim() is not None
    memory._malloc_trim.cache_clear()
    monkeypatch.setattr(memory.sys, "platform", "darwin")
    try:
        memory.release_freed_memory()  # a no-op, not an error
        assert memory._malloc_trim() is None
    finally:
        memory._malloc_trim.cache_clear()
