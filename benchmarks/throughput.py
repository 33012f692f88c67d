"""Workload 3: similarity and cluster prediction in Mpx/s, next to the machine's memory-bandwidth bound.

All on one field held in memory: (n, 64) float32, 256 B per pixel, read from the int8 scene. The bound is the
fastest streaming pass over that same array: numpy's ``sum`` in one thread, the same sum split over one thread per
core (numpy releases the GIL), and BLAS multiplying it by a vector of ones (a read with next to no arithmetic; on
some runs BLAS reads faster than numpy's sum, which alone would understate the bound). A copy is shown too; it
reads and writes, so it is no bound on a read. The passes are timed in interleaved rounds, so a burst of load on
the shared machine falls on all of them alike.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from rasterio.windows import Window

from aef_widgets import EmbeddingKMeans, open_source
from aef_widgets.analysis.similarity import similarity
from aef_widgets.engines.workflows import WORKERS
from aef_widgets.sources.base import subgrid

from .data import Inputs
from .measure import median, repeat
from .settings import Settings


def threaded_sum(array: np.ndarray, workers: int) -> float:
    """Sum of a (n, 64) array split by rows over ``workers`` threads."""
    parts = np.array_split(array, workers)
    with ThreadPoolExecutor(workers) as pool:
        return float(sum(pool.map(np.sum, parts)))


def throughput(inputs: Inputs, settings: Settings) -> dict[str, Any]:
    side = settings.throughput_side
    source = open_source({2024: inputs.scene_int8})
    field = source.read_window(subgrid(source.grid(), Window(0, 0, side, side)), 2024)
    flat = field.values.reshape(-1, field.values.shape[-1])
    n = flat.shape[0]
    row, col = np.argwhere(field.mask)[n // 3 % int(field.mask.sum())]
    reference = field.values[row, col][None]
    model = EmbeddingKMeans(n_clusters=5, random_state=0).fit(field)
    valid = field.mask.reshape(-1)
    copy = np.empty_like(flat)
    ones = np.ones(flat.shape[1], dtype=np.float32)
    times = max(3, settings.repeats)
    passes = {
        "bound: sum, 1 thread": lambda: flat.sum(),
        f"bound: sum, {WORKERS} threads": lambda: threaded_sum(flat, WORKERS),
        "bound: BLAS product with ones": lambda: flat @ ones,
        "copy (reads and writes)": lambda: np.copyto(copy, flat),
        "similarity (aef-widgets)": lambda: similarity(field, reference),
        "k-means predict, k=5 (aef-widgets)": lambda: model.predict(field),
        "k-means predict, k=5 (scikit-learn, valid rows gathered first)": lambda: model.kmeans_.predict(flat[valid]),
    }
    for fn in passes.values():  # once untimed: page faults, BLAS thread start-up
        fn()
    rounds = [{name: repeat(fn, 1)[0] for name, fn in passes.items()} for _ in range(times)]
    results = {}
    for name in passes:
        seconds = median([r[name] for r in rounds])
        results[name] = {"seconds": seconds, "mpx_per_s": n / 1e6 / seconds, "gb_per_s": n * 256 / 1e9 / seconds}
    bound = max(v["mpx_per_s"] for k, v in results.items() if k.startswith("bound"))
    for value in results.values():
        value["fraction_of_bound"] = value["mpx_per_s"] / bound
    return {
        "pixels": n,
        "array_mib": flat.nbytes / 2**20,
        "bound_mpx_per_s": bound,
        "results": results,
        "similarity_fraction_of_bound": results["similarity (aef-widgets)"]["fraction_of_bound"],
    }
