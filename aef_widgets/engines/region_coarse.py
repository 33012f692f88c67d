"""Coarse-to-fine search: rank where matches can be from an overview, then read at 10 m only those places.

1. The region is read at ``COARSE_FACTOR`` times the native pixel size, from the files' overviews (the release's
   hold renormalised means: a level 8 times coarser is a 64th of the pixels, and of the bytes), and each coarse
   cell scored. Chunks of the 10 m grid (the files' tile positions, a 1024 px tile a band on the release) get the
   best score of their cells, turned into a bound by ``analysis.region_search.cap_bound``.
2. Chunks are read at 10 m best bound first, a few side by side, while a chunk's bound beats the worst of the best
   pixels found so far. The rest are never read.

A chunk is skipped only when none of its coarse cells could reach the top *if* every pixel lies within
``spread_deg`` of its cell's mean direction; a pixel unlike the rest of its cell (a small target in a large
field) can be missed. So the pruning is a heuristic with a stated assumption and a measured recall: the benchmark
counts how many of the exact top 100 it finds (``benchmarks/region_search.py``), and ``SearchReport.unread_bound``
says the most an unread pixel could score under the assumption. Chunks without any data in the overview are
skipped soundly: an overview cell is nodata only when its whole block is.
"""

from __future__ import annotations

from concurrent.futures import Executor

import numpy as np
from rasterio.windows import Window

from ..analysis.region_search import TopPixels, cap_bound, unit_scores
from ..core.aoi import AOI
from ..core.grid import Grid
from ..sources.base import EmbeddingSource, subgrid
from .base import Progress
from .region_search import LevelRead, SearchReport, fine_task
from .workflows import CHUNK_BYTES, WORKERS, executor_width, map_chunks

#: How much coarser the first pass reads: 8 times (80 m), a 64th of the bytes of the 10 m read.
COARSE_FACTOR = 8
#: Angle within which the bound assumes a coarse cell's pixels lie around their mean direction: on the real AEF
#: raster of the tests, 90% of 8 x 8 px cells have every pixel within 38 degrees of their mean.
SPREAD_DEG = 40.0


def coarse_to_fine(
    source: EmbeddingSource, grid: Grid, year: int, aoi: AOI, weights: np.ndarray, pool: int, factor: int,
    spread_deg: float, executor: Executor | None, report: Progress,
) -> tuple[TopPixels, SearchReport]:  # fmt: skip
    """The ``pool`` best pixels of the chunks a coarse pass ranks highest, and what was read at each level."""
    windows = source.chunk_windows(grid, CHUNK_BYTES)
    coarse = source.grid(aoi, resolution=grid.resolution * factor)
    coarse_windows = source.chunk_windows(coarse, CHUNK_BYTES)
    locate = _ChunkLocator(grid, windows)
    norm = float(np.linalg.norm(weights))

    def coarse_task(window: Window) -> np.ndarray:
        # the overview is not masked to the AOI: a cell across its edge still bounds the pixels inside
        sub = subgrid(coarse, window)
        scores = unit_scores(source.read_window(sub, year), weights)
        return locate.best_per_chunk(sub, scores)

    best = np.full(len(windows), -np.inf)
    for i, (_w, chunk_best) in enumerate(map_chunks(coarse_windows, coarse_task, source=source, executor=executor)):
        np.fmax(best, chunk_best, out=best)
        report(0.2 * (i + 1) / len(coarse_windows), f"ranked {i + 1} of {len(coarse_windows)} coarse chunks")
    bounds = np.where(np.isfinite(best), cap_bound(np.where(np.isfinite(best), best, 0.0), norm, spread_deg), -np.inf)
    order = [int(i) for i in np.argsort(-bounds, kind="stable") if np.isfinite(bounds[i])]

    found = TopPixels(pool, grid.width)
    task = fine_task(source, grid, year, aoi, weights, pool)
    width = executor_width(executor) if executor is not None else WORKERS
    done = 0
    while done < len(order):
        # chunks go best bound first, so those that can still reach the top are the next few or none
        batch = [i for i in order[done : done + width] if bounds[i] > found.threshold]
        if not batch:
            break
        for _w, (scores, positions) in map_chunks([windows[i] for i in batch], task, source=source, executor=executor):
            found.offer(scores, positions)
        done += len(batch)
        left = int((bounds[order[done:]] > found.threshold).sum())
        report(0.2 + 0.8 * done / (done + left), f"read {done} chunks at 10 m; {left} could still hold a match")
        if len(batch) < width:
            break
    unread = order[done:]
    coarse_px = coarse.width * coarse.height
    fine_px = int(sum(windows[i].width * windows[i].height for i in order[:done]))
    levels = (
        LevelRead(coarse.resolution, coarse_px, coarse_px, len(coarse_windows), len(coarse_windows)),
        LevelRead(grid.resolution, fine_px, grid.width * grid.height, done, len(windows)),
    )
    pruning = (
        f"chunks pruned where no {coarse.resolution:g} m cell could reach the top if its pixels lie within "
        f"{spread_deg:g} degrees of its mean (a heuristic: recall measured, not promised)"
    )
    unread_bound = float(bounds[unread].max()) if unread else float("nan")
    return found, SearchReport("coarse-to-fine", levels, pruning, unread_bound)


class _ChunkLocator:
    """Which 10 m chunk each coarse cell's centre falls in (chunks tile the grid on a row-by-row lattice)."""

    def __init__(self, grid: Grid, windows: list[Window]) -> None:
        self.grid = grid
        self.n = len(windows)
        self.row_edges = np.array(sorted({int(w.row_off) for w in windows}))
        self.col_edges = np.array(sorted({int(w.col_off) for w in windows}))
        self.index = np.full((len(self.row_edges), len(self.col_edges)), -1, dtype=np.int64)
        for i, w in enumerate(windows):
            r = np.searchsorted(self.row_edges, int(w.row_off))
            c = np.searchsorted(self.col_edges, int(w.col_off))
            self.index[r, c] = i

    def best_per_chunk(self, coarse: Grid, scores: np.ndarray) -> np.ndarray:
        """The best coarse score in each chunk (minus infinity where none): a cell counts in every chunk one of
        its corners lies in, so a cell across a chunk's edge (grids not on one lattice) bounds both."""
        rows, cols = np.indices(scores.shape)
        values = scores.ravel()
        valid = np.isfinite(values)
        rows, cols, values = rows.ravel()[valid], cols.ravel()[valid], values[valid].astype(np.float64)
        best = np.full(self.n, -np.inf)
        for dr, dc in ((0.01, 0.01), (0.01, 0.99), (0.99, 0.01), (0.99, 0.99)):
            x, y = coarse.transform * (cols + dc, rows + dr)
            fine_cols, fine_rows = ~self.grid.transform * (np.asarray(x), np.asarray(y))
            # a cell past the grid's edge still bounds the pixels of the grid it covers
            fine_rows = np.clip(np.floor(fine_rows), 0, self.grid.height - 1).astype(np.int64)
            fine_cols = np.clip(np.floor(fine_cols), 0, self.grid.width - 1).astype(np.int64)
            r = np.searchsorted(self.row_edges, fine_rows, side="right") - 1
            c = np.searchsorted(self.col_edges, fine_cols, side="right") - 1
            np.maximum.at(best, self.index[r, c], values)
        return best
