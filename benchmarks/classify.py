"""Workload 6: classifying the benchmark AOI streamed, in Mpx/s next to k-means labelling in the same run.

Every path reads the same int8 COG chunk by chunk through ``map_chunks`` (the OS page cache warm) and writes one
output per pixel, so the ratios compare the labelling arithmetic plus the shared read. Runs are interleaved, so a
burst of load on the shared machine falls on all of them alike. The labels are 10 pixels of each of 6 k-means
clusters of a sample (the scene's classes are not stored); what is timed does not depend on which labels they are.

Also measured: peak memory allocated by one streamed classification (``tracemalloc``, which counts numpy's
buffers), against the 256 MiB per Mpx the AOI's embeddings would take, and the time from adding a label to a new
class map of a 1024 x 1024 view already in memory (refit with ``auto``, then classify).
"""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

import numpy as np
from rasterio.windows import Window

from aef_widgets import EmbeddingClassifier, EmbeddingKMeans, classify_grid, open_source
from aef_widgets.analysis.kmeans import NO_CLASS
from aef_widgets.analysis.sampling import sample_valid
from aef_widgets.engines.workflows import CHUNK_BYTES, _read, map_chunks
from aef_widgets.sources.base import subgrid

from .data import Inputs
from .measure import median, warm_page_cache
from .settings import Settings

METHODS = ("knn1", "knn3", "logistic", "forest")
BASELINE = "k-means labelling, k=6 (cluster_grid's second pass)"
VIEW_SIDE = 1024


def kmeans_label_grid(source, grid, model: EmbeddingKMeans) -> np.ndarray:
    """The labelling pass of ``cluster_grid`` alone: a fitted model over every chunk of the grid."""
    labels = np.full(grid.shape, NO_CLASS, dtype=np.int16)
    windows = source.chunk_windows(grid, CHUNK_BYTES)
    for window, chunk in map_chunks(windows, lambda w: model.predict(_read(source, grid, w, 2024, None))):
        labels[window.toslices()] = chunk
    return labels


def training_labels(field) -> tuple[EmbeddingKMeans, np.ndarray, np.ndarray]:
    """A k-means model of a sample of the field, and 10 sampled pixels of each of its clusters as labels."""
    vectors = sample_valid(field, 3000, seed=0)
    kmeans = EmbeddingKMeans(n_clusters=6, n_samples=3000, random_state=0).fit(vectors)
    clusters = kmeans.kmeans_.labels_
    picks = np.concatenate([np.flatnonzero(clusters == c)[:10] for c in range(6)])
    return kmeans, vectors[picks], clusters[picks]


def classify_aoi(inputs: Inputs, settings: Settings) -> dict[str, Any]:
    warm_page_cache([inputs.aoi_int8])
    source = open_source({2024: inputs.aoi_int8})
    grid = source.grid()
    side = min(VIEW_SIDE, grid.width, grid.height)
    view = source.read_window(subgrid(grid, Window(0, 0, side, side)), 2024)
    kmeans, X, y = training_labels(view)
    models = {method: EmbeddingClassifier(method).fit(X, y) for method in METHODS}
    runs: dict[str, Any] = {BASELINE: lambda: kmeans_label_grid(source, grid, kmeans)}
    runs |= {f"classify_grid, {m}": (lambda model=model: classify_grid(source, grid, 2024, None, model))
             for m, model in models.items()}  # fmt: skip
    times: dict[str, list[float]] = {name: [] for name in runs}
    agreement = None
    for _ in range(max(settings.min_runs, settings.cluster_repeats)):
        for name, run in runs.items():
            start = time.perf_counter()
            result = run()
            times[name].append(time.perf_counter() - start)
            if name == "classify_grid, knn1":  # labels from 1-NN agree with the clusters the labels came from
                clusters = kmeans_label_grid(source, grid, kmeans)
                valid = clusters >= 0
                agreement = float(np.mean(result.labels[valid] == clusters[valid]))
    mpx = grid.width * grid.height / 1e6
    base = median(times[BASELINE])
    results = {
        name: {"seconds": median(t), "mpx_per_s": mpx / median(t), "vs_kmeans": base / median(t)}
        for name, t in times.items()
    }
    return {
        "aoi_px": [grid.height, grid.width],
        "megapixels": mpx,
        "labels": len(y),
        "results": results,
        "knn1_agrees_with_kmeans": agreement,
        "memory": _memory(source, grid, models["logistic"]),
        "view_update": _view_update(view, X, y),
    }


def _memory(source, grid, model: EmbeddingClassifier) -> dict[str, float]:
    """Peak allocation of classifying a quarter of the AOI and all of it: the growth per Mpx should be the
    outputs' 10 bytes a pixel (9.5 MiB per Mpx), the rest a constant of the chunks in flight."""
    peaks, sizes = [], []
    for part in (subgrid(grid, Window(0, 0, grid.width // 2, grid.height // 2)), grid):
        tracemalloc.start()
        try:
            classify_grid(source, part, 2024, None, model)
            peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
        finally:
            tracemalloc.stop()
        sizes.append(part.width * part.height / 1e6)
    slope = (peaks[1] - peaks[0]) / (sizes[1] - sizes[0])
    return {"peak_mib": peaks[1], "quarter_peak_mib": peaks[0], "mib_per_mpx": slope,
            "outputs_mib_per_mpx": 10 / 1.048576}  # fmt: skip


def _view_update(view, X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Median over 3 added labels: the map refreshed with the method ``auto`` chose (refit, classify the view),
    and, apart, choosing the method again by cross-validation (which a panel can do in the background)."""
    rng = np.random.default_rng(1)
    vectors = view.valid_vectors()
    method = EmbeddingClassifier("auto").fit(X, y).method_
    fits, maps, choices = [], [], []
    for _ in range(3):
        extra = vectors[rng.integers(len(vectors))][None]
        labels_x, labels_y = np.concatenate([X, extra]), np.concatenate([y, [y[0]]])
        start = time.perf_counter()
        model = EmbeddingClassifier(method).fit(labels_x, labels_y)
        fitted = time.perf_counter()
        model.classify(view)
        mapped = time.perf_counter()
        EmbeddingClassifier("auto").fit(labels_x, labels_y)
        fits.append(fitted - start)
        maps.append(mapped - fitted)
        choices.append(time.perf_counter() - mapped)
    return {"view_px": list(view.shape), "fit_s": median(fits), "classify_s": median(maps),
            "total_s": median([a + b for a, b in zip(fits, maps)]), "method": method,
            "auto_choice_s": median(choices)}  # fmt: skip
