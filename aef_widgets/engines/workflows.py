"""Whole-AOI computations that stream a source chunk by chunk, so memory stays bounded at any AOI size."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from rasterio.windows import Window

from ..analysis.kmeans import NO_CLASS, EmbeddingKMeans
from ..analysis.sampling import PixelSampler
from ..analysis.similarity import change, similarity
from ..analysis.thresholds import AreaHistogram
from ..core.aoi import AOI
from ..core.field import EmbeddingField
from ..core.grid import Grid
from ..sources.base import EmbeddingSource, chunk_windows, mask_to_aoi, subgrid
from .base import Progress

#: Float32 bytes per chunk; 64 MiB keeps peak memory small and BLAS calls large.
CHUNK_BYTES = 64 * 2**20


def stream_grid(
    source: EmbeddingSource, grid: Grid, year: int, aoi: AOI | None
) -> Iterator[tuple[Window, EmbeddingField]]:
    """Chunks of ``grid`` read from ``source``, masked to the AOI."""
    for window in chunk_windows(grid, source.chunk_size(CHUNK_BYTES)):
        yield window, mask_to_aoi(source.read_window(subgrid(grid, window), year), aoi)


def cluster_grid(
    source: EmbeddingSource,
    grid: Grid,
    year: int,
    aoi: AOI | None,
    model: EmbeddingKMeans,
    progress: Progress | None = None,
) -> np.ndarray:
    """Fit ``model`` on a random sample of the grid's valid pixels, then label every pixel (-1 = no data).

    Two passes over the data: one to sample, one to predict. When the whole grid fits in one chunk it is read once.
    """
    windows = list(chunk_windows(grid, source.chunk_size(CHUNK_BYTES)))
    report = progress or (lambda fraction, message: None)
    if len(windows) == 1:
        report(0.1, "reading")
        field = mask_to_aoi(source.read_window(grid, year), aoi)
        report(0.5, "fitting")
        return model.fit(field).predict(field)
    sampler = PixelSampler(int(model.n_samples), model.random_state)
    for i, (window, field) in enumerate(stream_grid(source, grid, year, aoi)):
        sampler.update(field, int(window.row_off), int(window.col_off))
        report(0.5 * (i + 1) / len(windows), "sampling pixels")
    model.fit(sampler.vectors)
    labels = np.full(grid.shape, NO_CLASS, dtype=np.int16)
    for i, (window, field) in enumerate(stream_grid(source, grid, year, aoi)):
        labels[window.toslices()] = model.predict(field)
        report(0.5 + 0.5 * (i + 1) / len(windows), "labelling pixels")
    return labels


def similarity_histogram(
    source: EmbeddingSource, grid: Grid, year: int, aoi: AOI | None, reference: np.ndarray
) -> AreaHistogram:
    """Areas by similarity to ``reference`` over the whole grid."""
    histogram = AreaHistogram()
    for _window, field in stream_grid(source, grid, year, aoi):
        histogram.add(similarity(field, reference), field.grid)
    return histogram


def change_histogram(source: EmbeddingSource, grid: Grid, year_a: int, year_b: int, aoi: AOI | None) -> AreaHistogram:
    """Areas by change (1 - dot) from ``year_a`` to ``year_b`` over the whole grid."""
    histogram = AreaHistogram()
    for window in chunk_windows(grid, source.chunk_size(CHUNK_BYTES // 2)):
        sub = subgrid(grid, window)
        before = mask_to_aoi(source.read_window(sub, year_a), aoi)
        after = mask_to_aoi(source.read_window(sub, year_b), aoi)
        histogram.add(1 - change(before, after), sub)
    return histogram
