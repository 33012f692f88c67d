"""Streamed workflows open each file once per thread for the whole run, read the same values as a fresh open per
chunk, and close every dataset they opened: at the end, when stopped early, and in a pickled copy of a task."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import rasterio

from aef_widgets import open_source
from aef_widgets.engines.workflows import stream_grid
from aef_widgets.sources import open_files
from aef_widgets.sources.base import chunk_windows, subgrid
from tests.conftest import REAL_INT8, write_like


@pytest.fixture
def big_file(tmp_path):
    with rasterio.open(REAL_INT8) as ds:
        data = np.tile(ds.read(), (1, 4, 5))  # 384 x 480 px in 128 px tiles: twelve chunks of one tile
    return write_like(tmp_path / "big_2024.tif", REAL_INT8, data, tiled=True, blockxsize=128, blockysize=128)


@pytest.fixture
def opened(monkeypatch):
    """Every dataset the kept-open reads open, by a spy around the real ``rasterio.open``."""
    datasets: list[rasterio.DatasetReader] = []
    real_open = rasterio.open

    def spy(path, *args, **kwargs):
        ds = real_open(path, *args, **kwargs)
        datasets.append(ds)
        return ds

    monkeypatch.setattr(open_files.rasterio, "open", spy)
    return datasets


def chunked(source, chunk_px):
    """A source whose chunks are ``chunk_px`` px, so a small file makes several."""
    source.chunk_size = lambda _bytes: chunk_px
    return source


@pytest.mark.parametrize("workers", [1, 2])
def test_a_stream_opens_its_file_once_a_thread_and_reads_what_fresh_opens_read(big_file, opened, workers):
    source = chunked(open_source(big_file), 128)
    grid = source.grid()
    del opened[:]  # the source's own open, which reads the file's description
    chunks = list(stream_grid(source, grid, 2024, None, workers=workers))
    assert len(chunks) == len(list(chunk_windows(grid, 128))) == 12
    assert 1 <= len(opened) <= workers  # not one open per chunk
    assert all(ds.closed for ds in opened)
    for window, field in chunks:  # the same values as a read that opens the file itself
        fresh = open_source(big_file).read_window(subgrid(grid, window), 2024)
        np.testing.assert_array_equal(field.mask, fresh.mask)
        np.testing.assert_array_equal(field.values, fresh.values)


def test_a_stream_stopped_early_closes_what_it_opened(big_file, opened):
    source = chunked(open_source(big_file), 128)
    stream = stream_grid(source, source.grid(), 2024, None, workers=2)
    next(stream)
    stream.close()  # as a cancelled job does
    assert opened and all(ds.closed for ds in opened)


def test_a_pickled_copy_starts_empty_and_closes_its_datasets_when_its_task_ends(big_file, opened):
    files = open_files.OpenFiles()
    copy = pickle.loads(pickle.dumps(files))  # what a Dask worker receives
    assert copy.transient and len(copy) == 0
    with open_files.kept_open(copy), open_files.open_dataset(str(big_file)) as ds:
        assert not ds.closed
    assert ds.closed and len(copy) == 0
    assert not files.transient


def test_reads_outside_a_run_open_and_close_their_own_dataset(big_file):
    with open_files.open_dataset(str(big_file)) as ds:
        assert not ds.closed
    assert ds.closed
