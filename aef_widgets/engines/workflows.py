"""Whole-AOI computations that stream a source chunk by chunk, so memory stays bounded at any AOI size.

Chunks are read and computed in a small pool of threads (GDAL decoding and numpy both release the GIL) and their
results consumed in order, with a bounded number in flight. Each pool thread decodes with one GDAL thread and BLAS
runs single-threaded for the duration: the pool already keeps every core busy, and nested thread pools on a small
machine only make threads wait for each other (measured on 2 cores: 30% slower and far more variable).
"""

from __future__ import annotations

import contextlib
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from rasterio.windows import Window
from threadpoolctl import threadpool_limits

from ..analysis.contrast import contrast_score
from ..analysis.kmeans import NO_CLASS, EmbeddingKMeans, check_kmeans_params
from ..analysis.sampling import Candidates, PixelSampler, candidates
from ..analysis.similarity import change, similarity
from ..analysis.thresholds import AreaHistogram
from ..core.aoi import AOI
from ..core.execution import scoped
from ..core.field import EmbeddingField
from ..core.grid import Grid
from ..sources.base import EmbeddingSource, mask_to_aoi, subgrid
from .base import Progress
from .chunk_spill import ChunkSpill

if TYPE_CHECKING:  # scikit-learn behind these takes seconds to import: loaded when a model is used, not by a map
    from ..analysis.classify import ClassMap, EmbeddingClassifier
    from ..analysis.regress import EmbeddingRegressor

T = TypeVar("T")
#: Float32 bytes per chunk: 64 MiB is 2 x 2 tiles of 256 px of all 64 bands. A read of several tiles is decoded by
#: GDAL's own threads straight into the chunk, past its block cache: on the benchmark's int8 COG that costs about a
#: fifth less CPU than reading one tile at a time (0.37 against 0.45 CPU s/Mpx), and the chunks in flight stay a
#: few hundred MiB at most.
CHUNK_BYTES = 64 * 2**20
#: Threads reading and computing chunks at once: one per core, at most 4 (beyond that the disk or network bounds).
WORKERS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def map_chunks(
    windows: list[Window],
    task: Callable[[Window], T],
    workers: int = WORKERS,
    source: EmbeddingSource | None = None,
    executor: Executor | None = None,
) -> Iterator[tuple[Window, T]]:
    """``(window, task(window))`` for every window, computed in parallel and yielded in order.

    Chunks run in ``workers`` threads of this process, or on ``executor`` when one is given: any
    ``concurrent.futures.Executor``, a Dask ``Client.get_executor()`` included, whose workers then read the chunks
    themselves (sources pickle, and are reopened by path). At most one chunk per worker plus one is in flight, so
    memory stays bounded whatever the consumer's pace; reads run in the source's ``pooled_reads`` context.
    """
    if executor is None and (workers <= 1 or len(windows) <= 1):
        for window in windows:
            yield window, task(window)
        return
    if executor is not None:
        yield from _in_order(windows, task, source, executor, executor_width(executor))
        return
    with threadpool_limits(1, user_api="blas"), scoped(workers, "aef-chunks") as pool:
        yield from _in_order(windows, task, source, pool, workers)


def executor_width(executor: Executor) -> int:
    """How many tasks an executor runs at once: its threads or processes, or a Dask cluster's worker threads."""
    width = getattr(executor, "_max_workers", None)
    client = getattr(executor, "_client", None)  # distributed's ClientExecutor
    if width is None and client is not None:
        width = sum(client.nthreads().values())
    return max(1, int(width or WORKERS))


def _in_order(
    windows: list[Window], task: Callable[[Window], T], source: EmbeddingSource | None, executor: Executor, width: int
) -> Iterator[tuple[Window, T]]:
    pending: deque[tuple[Window, Future]] = deque()
    try:
        for window in windows:
            pending.append((window, executor.submit(_pooled, source, task, window)))
            if len(pending) > width:  # one waiting beyond those running: enough to keep them busy
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
    finally:  # stopped early (an error, a cancelled job): what has not started never will
        for _, future in pending:
            future.cancel()


def _pooled(source: EmbeddingSource | None, task: Callable[[Window], T], window: Window) -> T:
    with source.pooled_reads() if source is not None else contextlib.nullcontext():
        return task(window)


def stream_grid(
    source: EmbeddingSource,
    grid: Grid,
    year: int,
    aoi: AOI | None,
    workers: int = WORKERS,
    executor: Executor | None = None,
) -> Iterator[tuple[Window, EmbeddingField]]:
    """Chunks of ``grid`` read from ``source``, masked to the AOI, read ahead by ``workers`` threads."""
    windows = source.chunk_windows(grid, CHUNK_BYTES)
    yield from map_chunks(windows, lambda window: _read(source, grid, window, year, aoi), workers, source, executor)


def _read(source: EmbeddingSource, grid: Grid, window: Window, year: int, aoi: AOI | None) -> EmbeddingField:
    return mask_to_aoi(source.read_window(subgrid(grid, window), year), aoi)


def cluster_grid(
    source: EmbeddingSource,
    grid: Grid,
    year: int,
    aoi: AOI | None,
    model: EmbeddingKMeans,
    progress: Progress | None = None,
    workers: int = WORKERS,
    executor: Executor | None = None,
) -> np.ndarray:
    """Fit ``model`` on a random sample of the grid's valid pixels, then label every pixel (-1 = no data).

    Two passes over the data: one to sample, one to predict. When the whole grid fits in one chunk it is read once.
    With the chunks read in this process (no ``executor``), the first pass keeps them in a temporary file
    (``ChunkSpill``, when it fits) and the second reads them back instead of decoding the source again, which halves
    the CPU of a slow-to-decode file (a float64 export) and fetches a remote one once; memory stays that of the
    chunks in flight. Otherwise the second pass reads the source again.
    """
    check_kmeans_params(model.n_clusters, model.n_samples)  # before any pass over the pixels
    windows = source.chunk_windows(grid, CHUNK_BYTES)
    report = progress or (lambda fraction, message: None)
    if len(windows) == 1:
        report(0.1, "reading")
        field = mask_to_aoi(source.read_window(grid, year), aoi)
        report(0.5, "fitting")
        return model.fit(field).predict(field)
    spill = ChunkSpill.fitting(windows) if executor is None else None
    try:
        return _cluster_passes(source, grid, year, aoi, model, windows, report, workers, executor, spill)
    finally:
        if spill is not None:
            spill.close()


def _cluster_passes(
    source: EmbeddingSource, grid: Grid, year: int, aoi: AOI | None, model: EmbeddingKMeans, windows: list[Window],
    report: Progress, workers: int, executor: Executor | None, spill: ChunkSpill | None,
) -> np.ndarray:  # fmt: skip
    n, seed = int(model.n_samples), model.random_state

    def best_pixels(window: Window) -> Candidates:
        # the chunk's own best candidates are found in the worker threads; the sampler only merges them
        if spill is None:
            return candidates(_read(source, grid, window, year, aoi), n, seed, int(window.row_off), int(window.col_off))
        field, buffer = spill.read(source, subgrid(grid, window), year)
        field = mask_to_aoi(field, aoi)
        spill.put(window, field)
        found = candidates(field, n, seed, int(window.row_off), int(window.col_off))  # copies its vectors
        spill.recycle_buffer(buffer)
        return found

    sampler = PixelSampler(n, seed)
    for i, (_window, found) in enumerate(map_chunks(windows, best_pixels, workers, source, executor)):
        sampler.offer(found)
        report(0.5 * (i + 1) / len(windows), "sampling pixels")
    model.fit(sampler.vectors)
    labels = np.full(grid.shape, NO_CLASS, dtype=np.int16)

    def label(window: Window) -> np.ndarray:
        if spill is None or not spill.complete:
            return model.predict(_read(source, grid, window, year, aoi))
        field = spill.get(window, subgrid(grid, window), year)
        chunk_labels = model.predict(field)
        spill.recycle(field)
        return chunk_labels

    for i, (window, chunk_labels) in enumerate(map_chunks(windows, label, workers, source, executor)):
        labels[window.toslices()] = chunk_labels
        report(0.5 + 0.5 * (i + 1) / len(windows), "labelling pixels")
    return labels


def similarity_histogram(
    source: EmbeddingSource,
    grid: Grid,
    year: int,
    aoi: AOI | None,
    reference: np.ndarray,
    executor: Executor | None = None,
    negatives: np.ndarray | None = None,
) -> AreaHistogram:
    """Areas by similarity to ``reference`` over the whole grid (with ``negatives``: by ``contrast_score``)."""
    windows = source.chunk_windows(grid, CHUNK_BYTES)

    def task(window: Window) -> np.ndarray:
        field = _read(source, grid, window, year, aoi)
        if negatives is not None and len(negatives):
            return contrast_score(field, reference, negatives)
        return similarity(field, reference)

    histogram = AreaHistogram()
    for window, values in map_chunks(windows, task, source=source, executor=executor):
        histogram.add(values, subgrid(grid, window))
    return histogram


def change_histogram(
    source: EmbeddingSource, grid: Grid, year_a: int, year_b: int, aoi: AOI | None, executor: Executor | None = None
) -> AreaHistogram:
    """Areas by change (1 - cosine) from ``year_a`` to ``year_b`` over the whole grid."""
    windows = source.chunk_windows(grid, CHUNK_BYTES // 2)

    def task(window: Window) -> np.ndarray:
        before = _read(source, grid, window, year_a, aoi)
        return change(before, _read(source, grid, window, year_b, aoi))

    histogram = AreaHistogram()
    for window, values in map_chunks(windows, task, source=source, executor=executor):
        histogram.add(values, subgrid(grid, window))
    return histogram


def classify_grid(
    source: EmbeddingSource,
    grid: Grid,
    year: int,
    aoi: AOI | None,
    model: EmbeddingClassifier,
    progress: Progress | None = None,
    workers: int = WORKERS,
    executor: Executor | None = None,
) -> ClassMap:
    """Classify every pixel of the grid with a fitted ``model``, streamed: labels (indices into
    ``model.classes_``, -1 = no data), top probability and margin to the runner-up (NaN = no data).

    One pass over the data; memory holds the outputs (10 bytes a pixel) and the chunks in flight.
    """
    from ..analysis.classify import ClassMap

    if not hasattr(model, "estimator_"):
        raise RuntimeError("fit the classifier on labelled points before classifying a grid")
    windows = source.chunk_windows(grid, CHUNK_BYTES)
    report = progress or (lambda fraction, message: None)
    labels = np.full(grid.shape, NO_CLASS, dtype=np.int16)
    confidence = np.full(grid.shape, np.nan, dtype=np.float32)
    margin = np.full(grid.shape, np.nan, dtype=np.float32)

    def task(window: Window) -> ClassMap:
        return model.classify(_read(source, grid, window, year, aoi))

    for i, (window, chunk) in enumerate(map_chunks(windows, task, workers, source, executor)):
        where = window.toslices()
        labels[where], confidence[where], margin[where] = chunk.labels, chunk.confidence, chunk.margin
        report((i + 1) / len(windows), "classifying pixels")
    return ClassMap(labels, confidence, margin)


def regress_grid(
    source: EmbeddingSource,
    grid: Grid,
    year: int,
    aoi: AOI | None,
    model: EmbeddingRegressor,
    progress: Progress | None = None,
    workers: int = WORKERS,
    executor: Executor | None = None,
) -> np.ndarray:
    """Predicted value of every pixel of the grid with a fitted regressor, streamed: float32, NaN = no data."""
    windows = source.chunk_windows(grid, CHUNK_BYTES)
    report = progress or (lambda fraction, message: None)
    values = np.full(grid.shape, np.nan, dtype=np.float32)
    for i, (window, chunk) in enumerate(
        map_chunks(windows, lambda w: model.predict(_read(source, grid, w, year, aoi)), workers, source, executor)
    ):
        values[window.toslices()] = chunk
        report((i + 1) / len(windows), "predicting values")
    return values
