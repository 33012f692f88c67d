"""Single pixels read through the file's own tiles, the last few kept: a probe click reads one pixel, and GDAL
decodes the whole tile holding it in every band (64 MiB of int8 for a 1024 px tile position of the release) every
time a dataset is reopened. Kept as the file stores them, a second click in the same tile position fetches nothing
and costs a lookup instead (measured: the pixel read was most of a warm click, and on a busy machine more than half).

The bound is process-wide and explicit: ``MAX_BYTES``, from ``$AEF_WIDGETS_TILE_CACHE_MB`` (default 32 MiB: eight
256 px tiles of a pixel-interleaved file; 64 and 128 MiB took the soak's idle kernel over its 450 MB goal). The
newest tile is kept even when it alone is larger, up to ``LARGEST_BLOCK`` (one 1024 px tile position of the
release, 64 MiB), so a second click in the release's tile position is free; a larger tile is not kept, its pixel
is read alone.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
import rasterio
from rasterio.windows import Window

from .file_window import read_codes
from .rasterfile import RasterFile

#: Environment variable setting ``MAX_BYTES`` in MiB.
CACHE_ENV = "AEF_WIDGETS_TILE_CACHE_MB"
#: Decoded tile bytes kept in all, a process-wide bound (two int8 tile positions of 1024 px and 64 bands).
MAX_BYTES = int(float(os.environ.get(CACHE_ENV, 32)) * 2**20)
#: The largest tile kept (as the only one, over ``MAX_BYTES`` if need be): a release tile position of 64 int8 bands.
LARGEST_BLOCK = 64 * 2**20

_blocks: OrderedDict[tuple, np.ndarray] = OrderedDict()
_lock = threading.Lock()
_held = [0]


def read_pixel(f: RasterFile, row: int, col: int, dataset: Callable[[], rasterio.DatasetReader]) -> np.ndarray:
    """File values (bands, 1, 1) of pixel (row, col) of ``f``; ``dataset()`` opens the file when a block is read."""
    side = f.block
    itemsize = 1 if f.encoding == "int8" else 8
    if not side or side * side * len(f.band_indexes) * itemsize > max(MAX_BYTES, LARGEST_BLOCK):
        return dataset().read(f.band_indexes, window=Window(col, row, 1, 1))
    r0, c0 = row // side * side, col // side * side
    key = (f.path, _version(f.path), f.band_indexes, r0, c0)
    with _lock:
        block = _blocks.get(key)
        if block is not None:
            _blocks.move_to_end(key)
    if block is None:
        window = Window(c0, r0, min(side, f.width - c0), min(side, f.height - r0))
        block = read_codes(f, dataset(), window, (len(f.band_indexes), window.height, window.width))
        _keep(key, block)
    return block[:, row - r0 : row - r0 + 1, col - c0 : col - c0 + 1]


def clear() -> None:
    """Forget every kept block."""
    with _lock:
        _blocks.clear()
        _held[0] = 0


def _keep(key: tuple, block: np.ndarray) -> None:
    with _lock:
        if key in _blocks:
            return
        _blocks[key] = block
        _held[0] += block.nbytes
        while _held[0] > MAX_BYTES and len(_blocks) > 1:  # the newest stays
            _held[0] -= _blocks.popitem(last=False)[1].nbytes


def _version(path: str) -> tuple[int, int] | None:
    """A local file's size and modification time, so a rewritten file is never answered from old blocks."""
    try:
        st = os.stat(path)
    except OSError:  # a URL or an archive path: GDAL reads it, the OS cannot stat it
        return None
    return (st.st_size, st.st_mtime_ns)
