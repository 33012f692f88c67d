"""The first pass's chunks kept on local disk for the second, so a two-pass computation decodes its source once.

k-means over an AOI samples in one pass and labels in another. Reading the source again decodes every tile again:
on the benchmark's float64 file that is 0.7-0.8 CPU s/Mpx on an AMD family 25 machine, most of the labelling
pass, and over the network it fetches every byte again. Keeping the chunks in memory would grow with the AOI
(256 MiB per Mpx), so they go to an unlinked temporary file instead, as exactly the float32 values and mask that
were read: writing and reading them back is two copies through the OS page cache (about 0.05 CPU s/Mpx), never
resident in the process, and the file disappears when it is closed or the process ends.

The file is used only when it fits: at most ``SPILL_BYTES`` (``AEF_WIDGETS_SPILL_MB``, 4096 MiB by default, about
16 Mpx) and at most half of the free space of the temporary folder; otherwise the second pass reads the source again.
"""

from __future__ import annotations

import os
import queue
import shutil
import tempfile
from collections.abc import Sequence

import numpy as np
from rasterio.windows import Window

from ..core.bands import N_BANDS
from ..core.field import EmbeddingField
from ..core.grid import Grid
from ..core.memory import budget_bytes
from ..sources.base import EmbeddingSource
from ..sources.geotiff import GeoTIFFSource

#: Environment variable setting ``SPILL_BYTES`` in MiB.
SPILL_ENV = "AEF_WIDGETS_SPILL_MB"
#: Most bytes of one computation's temporary file (float32 values and a mask byte: 257 bytes a pixel).
SPILL_BYTES = budget_bytes(SPILL_ENV, 4096)
_PIXEL_BYTES = N_BANDS * 4 + 1


class ChunkSpill:
    """Fields of ``windows`` written once (``put``) and read back exactly (``get``), from any thread."""

    def __init__(self, windows: Sequence[Window], folder: str | None = None) -> None:
        sizes = [int(w.height) * int(w.width) * _PIXEL_BYTES for w in windows]
        self._offsets = dict(zip(map(_key, windows), np.cumsum([0, *sizes[:-1]]).tolist()))
        self._file = tempfile.TemporaryFile(prefix="aef-chunks-", dir=folder)  # noqa: SIM115  (unlinked; close())
        # buffers handed back by the second pass's consumer, reused so a chunk's pages are not faulted in afresh
        self._free: queue.SimpleQueue[np.ndarray] = queue.SimpleQueue()
        self._failed: list[OSError] = []

    @classmethod
    def fitting(cls, windows: Sequence[Window], budget: int | None = None) -> ChunkSpill | None:
        """A spill for ``windows`` if it fits the budget and the temporary folder's free space, else None."""
        need = sum(int(w.height) * int(w.width) for w in windows) * _PIXEL_BYTES
        folder = tempfile.gettempdir()
        try:
            free = shutil.disk_usage(folder).free
        except OSError:
            return None
        if need > (SPILL_BYTES if budget is None else budget) or 2 * need > free:
            return None
        return cls(windows, folder)

    @property
    def complete(self) -> bool:
        """Every ``put`` so far was written (False once the temporary disk was full: read the source again)."""
        return not self._failed

    def read(self, source: EmbeddingSource, grid: Grid, year: int) -> tuple[EmbeddingField, np.ndarray]:
        """A chunk read from ``source``, into a recycled buffer where the source can (``GeoTIFFSource``), which
        spares faulting in fresh pages for every chunk (7-9% of a pass's CPU on AMD family 25); hand the buffer
        back with ``recycle_buffer`` when the field is no longer used."""
        buffer = self.buffer(grid.height * grid.width * N_BANDS)
        if type(source).read_window is GeoTIFFSource.read_window:  # not a subclass reading its own way
            return source.read_window(grid, year, buffer), buffer
        return source.read_window(grid, year), buffer

    def put(self, window: Window, field: EmbeddingField) -> None:
        """Keep a chunk's values and mask (its validity after any AOI masking); a full disk makes it incomplete."""
        offset = self._offsets[_key(window)]
        values = np.ascontiguousarray(field.values, dtype=np.float32)
        try:
            for part in (values, np.ascontiguousarray(field.mask)):
                _write_all(self._file.fileno(), memoryview(part).cast("B"), offset)
                offset += part.nbytes
        except OSError as e:
            self._failed.append(e)

    def get(self, window: Window, grid: Grid, year: int) -> EmbeddingField:
        """The chunk ``put`` for ``window``, on ``grid``; its values buffer may be handed back with ``recycle``."""
        rows, cols = int(window.height), int(window.width)
        values = self.buffer(rows * cols * N_BANDS)[: rows * cols * N_BANDS].reshape(rows, cols, N_BANDS)
        mask = np.empty((rows, cols), dtype=bool)
        offset = self._offsets[_key(window)]
        for part in (values, mask):
            _read_all(self._file.fileno(), memoryview(part).cast("B"), offset)
            offset += part.nbytes
        return EmbeddingField(values=values, mask=mask, grid=grid, year=year)

    def recycle(self, field: EmbeddingField) -> None:
        """Hand back a field from ``get`` that nothing refers to any more."""
        self.recycle_buffer(field.values.base if field.values.base is not None else field.values)

    def recycle_buffer(self, flat: np.ndarray) -> None:
        """Hand back a buffer from ``buffer`` that nothing refers to any more."""
        self._free.put(flat.reshape(-1))

    def close(self) -> None:
        self._file.close()

    def buffer(self, n: int) -> np.ndarray:
        """A flat float32 buffer of at least ``n`` values, a recycled one when there is one (``recycle_buffer``)."""
        try:
            flat = self._free.get_nowait()
        except queue.Empty:
            return np.empty(n, dtype=np.float32)
        return flat if flat.size >= n else np.empty(n, dtype=np.float32)


def _key(window: Window) -> tuple[int, int, int, int]:
    return int(window.row_off), int(window.col_off), int(window.height), int(window.width)


def _write_all(fd: int, data: memoryview, offset: int) -> None:
    while len(data):
        written = os.pwrite(fd, data, offset)
        data, offset = data[written:], offset + written


def _read_all(fd: int, data: memoryview, offset: int) -> None:
    while len(data):
        got = os.preadv(fd, [data], offset)
        if got <= 0:
            raise OSError("the temporary file of the first pass ended early")
        data, offset = data[got:], offset + got
