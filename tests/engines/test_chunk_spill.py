"""The k-means stream keeps its first pass's chunks in a temporary file and labels from them: the same labels as
reading the source twice, each chunk read from the source once, and a full disk falls back to reading again."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from aef_widgets import EmbeddingKMeans, cluster_grid, open_source
from aef_widgets.core.field import EmbeddingField
from aef_widgets.engines import chunk_spill, workflows
from aef_widgets.engines.chunk_spill import ChunkSpill
from aef_widgets.sources.base import subgrid
from tests.conftest import REAL_FLOAT32, write_like


@pytest.fixture
def float_source(tmp_path, monkeypatch):
    """The real float32 raster tiled to 192 x 288 px in 64 px tiles, with a hole of nodata, streamed in 64 px
    chunks (edge chunks partial), so the stream has many chunks at a size that takes a second."""
    with rasterio.open(REAL_FLOAT32) as ds:
        data = np.tile(ds.read(), (1, 2, 3))[:, :, :280]
    data[:, 10:30, 40:90] = np.nan
    path = write_like(tmp_path / "tiled_2024.tif", REAL_FLOAT32, data, tiled=True, blockxsize=64, blockysize=64)
    monkeypatch.setattr(workflows, "CHUNK_BYTES", 64 * 64 * 257)
    source = open_source(path)
    reads: list[tuple[int, int]] = []
    read_window = source.read_window

    def counted(grid, year, out=None):
        reads.append((grid.transform.c, grid.transform.f))
        return read_window(grid, year, out)

    source.read_window = counted
    return source, reads


def _cluster(source):
    return cluster_grid(source, source.grid(), 2024, None, EmbeddingKMeans(4, 200), workers=2)


def test_labels_from_the_kept_chunks_equal_reading_twice(float_source, monkeypatch):
    source, reads = float_source
    kept = _cluster(source)
    chunks = len(source.chunk_windows(source.grid(), workflows.CHUNK_BYTES))
    assert chunks > 8 and len(reads) == chunks and len(set(reads)) == chunks  # each chunk read once
    reads.clear()
    monkeypatch.setattr(chunk_spill, "SPILL_BYTES", 0)  # too small: the second pass reads the source again
    again = _cluster(source)
    assert len(reads) == 2 * chunks
    np.testing.assert_array_equal(kept, again)
    assert (kept == -1).sum() == 20 * 50 and set(np.unique(kept)) == {-1, 0, 1, 2, 3}


def test_a_full_disk_falls_back_to_reading_again(float_source, monkeypatch):
    source, reads = float_source
    expected = _cluster(source)
    reads.clear()

    def disk_full(fd, data, offset):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(chunk_spill, "_write_all", disk_full)
    np.testing.assert_array_equal(_cluster(source), expected)
    assert len(reads) == 2 * len(set(reads))


def test_chunks_come_back_bit_for_bit_also_in_recycled_buffers():
    source = open_source(REAL_FLOAT32)
    grid = source.grid()
    windows = [Window(0, 0, 64, 64), Window(64, 0, 32, 64), Window(0, 64, 64, 32)]
    fields = [source.read_window(subgrid(grid, w), 2024) for w in windows]
    fields[1].values[3, 4] = np.nan
    fields[1].mask[3, 4] = False
    spill = ChunkSpill(windows)
    try:
        for w, f in zip(windows, fields):
            spill.put(w, f)
        for w, f in [*zip(windows, fields), *zip(windows[::-1], fields[::-1])]:
            back = spill.get(w, f.grid, 2024)
            assert isinstance(back, EmbeddingField) and back.grid == f.grid
            np.testing.assert_array_equal(back.values, f.values)  # NaN where no data, in the same places
            np.testing.assert_array_equal(back.mask, f.mask)
            spill.recycle(back)
    finally:
        spill.close()


def test_a_spill_larger_than_its_budget_is_not_made():
    windows = [Window(0, 0, 512, 512)] * 4
    assert ChunkSpill.fitting(windows, budget=4 * 512 * 512 * 257 - 1) is None
    spill = ChunkSpill.fitting(windows, budget=4 * 512 * 512 * 257)
    assert spill is not None
    spill.close()
