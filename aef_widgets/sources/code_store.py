"""Decoded file values kept between reads, in one process-wide store bounded by bytes: the tiles clicked pixels lie
in (``read_pixel``) and the int8 codes of the windows of local files that views and their products read
(``RasterFile.read_vectors``).

A probe click reads one pixel, and GDAL decodes the whole tile holding it in every band (64 MiB of int8 for a 1024
px tile position of the release) every time a dataset is reopened. Kept as the file stores them, a second click in
the same tile position fetches nothing and costs a lookup instead (measured: the pixel read was most of a warm
click, and on a busy machine more than half).

Decoding is most of a read of a local file, and the explorer reads the same window again and again: a pan draws
the view's RGB, similarity, change and classes, each reading the view, and the engine keeps one float view at a
time; an AOI is read again for each product's areas. Measured on the sample over 100 interactions of the soak's
visit: 242 reads, 107 of them distinct, the repeats 12 of the 22 CPU seconds spent reading. Codes are a quarter of
the float values' bytes, and turning them into floats again is a small part of a read.

The bound is explicit: ``MAX_BYTES``, from ``$AEF_WIDGETS_TILE_CACHE_MB`` (default 32 MiB: eight 256 px tiles of a
pixel-interleaved file, or a few views' windows; 64 and 128 MiB took the soak's idle kernel over its 450 MB goal).
The newest tile is kept even when it alone is larger, up to ``LARGEST_BLOCK`` (one 1024 px tile position of the
release, 64 MiB), so a second click in the release's tile position is free; a window is kept only when it is at
most half the bound, so one large read never pushes out everything else. Kept arrays are read-only: every reader
shares them.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Protocol

import numpy as np
from rasterio.windows import Window

#: Environment variable setting ``MAX_BYTES`` in MiB.
CACHE_ENV = "AEF_WIDGETS_TILE_CACHE_MB"
#: Decoded bytes kept in all, a process-wide bound.
MAX_BYTES = int(float(os.environ.get(CACHE_ENV, 32)) * 2**20)
#: The largest tile kept (as the only one, over ``MAX_BYTES`` if need be): a release tile position of 64 int8 bands.
LARGEST_BLOCK = 64 * 2**20

_kept: OrderedDict[Hashable, np.ndarray] = OrderedDict()
_lock = threading.Lock()
_held = [0]


class TiledFile(Protocol):
    """What ``read_pixel`` needs of a file (a ``RasterFile`` has it)."""

    path: str
    width: int
    height: int
    encoding: str
    band_indexes: tuple[int, ...]
    block: int


def read_pixel(
    f: TiledFile, row: int, col: int, read: Callable[[Window, tuple[int, int, int]], np.ndarray]
) -> np.ndarray:
    """File values (bands, 1, 1) of pixel (row, col) of ``f``, through its kept tile; ``read(window, shape)`` reads
    file values (bands, rows, cols) when the tile is not kept (or is too large to keep: then the pixel alone)."""
    side = f.block
    itemsize = 1 if f.encoding == "int8" else 8
    bands = len(f.band_indexes)
    if not side or side * side * bands * itemsize > max(MAX_BYTES, LARGEST_BLOCK):
        return read(Window(col, row, 1, 1), (bands, 1, 1))
    r0, c0 = row // side * side, col // side * side
    key = ("tile", f.path, file_version(f.path), f.band_indexes, r0, c0)
    block = get(key)
    if block is None:
        window = Window(c0, r0, min(side, f.width - c0), min(side, f.height - r0))
        block = read(window, (bands, window.height, window.width))
        keep(key, block)
    return block[:, row - r0 : row - r0 + 1, col - c0 : col - c0 + 1]


def get(key: Hashable) -> np.ndarray | None:
    """The codes kept under ``key`` (now the most recently used), else None."""
    with _lock:
        codes = _kept.get(key)
        if codes is not None:
            _kept.move_to_end(key)
        return codes


def keep(key: Hashable, codes: np.ndarray) -> None:
    """Keep ``codes`` (made read-only: readers share it) under ``key``, forgetting the least recently used beyond
    ``MAX_BYTES``; the newest always stays."""
    codes.flags.writeable = False
    with _lock:
        if key in _kept:
            return
        _kept[key] = codes
        _held[0] += codes.nbytes
        while _held[0] > MAX_BYTES and len(_kept) > 1:
            _held[0] -= _kept.popitem(last=False)[1].nbytes


def clear() -> None:
    """Forget everything kept."""
    with _lock:
        _kept.clear()
        _held[0] = 0


def held_bytes() -> int:
    """Bytes kept now."""
    with _lock:
        return _held[0]


def entries() -> int:
    """How many tiles and windows are kept now."""
    with _lock:
        return len(_kept)


def file_version(path: str) -> tuple[int, int] | None:
    """A local file's size and modification time, so a rewritten file is never answered from old codes; None for a
    URL or an archive path (GDAL reads it, the OS cannot stat it)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)
