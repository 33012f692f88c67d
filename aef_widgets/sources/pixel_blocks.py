"""Single pixels read through the file's own blocks, the last few kept: a probe click reads one pixel, and GDAL
decodes the whole tile holding it (4 MB of int8 for a 256 px tile of 64 bands) every time a dataset is reopened.
Kept as the file stores them, a second click in the same tile costs a lookup instead (measured: the pixel read was
most of a warm click, and on a busy machine more than half).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
import rasterio
from rasterio.windows import Window

from .rasterfile import RasterFile

#: Raw block bytes kept in all (a process-wide bound; 8 int8 tiles of 256 px and 64 bands).
MAX_BYTES = 32 * 2**20
#: Larger blocks (a float64 file's 512 px tiles are 128 MiB) are not kept: the pixel is read alone.
MAX_BLOCK_BYTES = MAX_BYTES // 4

_blocks: OrderedDict[tuple, np.ndarray] = OrderedDict()
_lock = threading.Lock()
_held = [0]


def read_pixel(f: RasterFile, row: int, col: int, dataset: Callable[[], rasterio.DatasetReader]) -> np.ndarray:
    """File values (64, 1, 1) of pixel (row, col) of ``f``; ``dataset()`` opens the file when a block is read."""
    side = f.block
    itemsize = 1 if f.encoding == "int8" else 8
    if not side or side * side * len(f.band_indexes) * itemsize > MAX_BLOCK_BYTES:
        return dataset().read(f.band_indexes, window=Window(col, row, 1, 1))
    r0, c0 = row // side * side, col // side * side
    key = (f.path, _version(f.path), r0, c0)
    with _lock:
        block = _blocks.get(key)
        if block is not None:
            _blocks.move_to_end(key)
    if block is None:
        window = Window(c0, r0, min(side, f.width - c0), min(side, f.height - r0))
        block = dataset().read(f.band_indexes, window=window)
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
        while _held[0] > MAX_BYTES and _blocks:
            _held[0] -= _blocks.popitem(last=False)[1].nbytes


def _version(path: str) -> tuple[int, int] | None:
    """A local file's size and modification time, so a rewritten file is never answered from old blocks."""
    try:
        st = os.stat(path)
    except OSError:  # a URL or an archive path: GDAL reads it, the OS cannot stat it
        return None
    return (st.st_size, st.st_mtime_ns)
