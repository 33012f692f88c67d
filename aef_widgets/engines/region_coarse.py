"""Coarse-to-fine search: rank where matches can be from an overview, then read at 10 m only those places.

1. The region is read at ``COARSE_FACTOR`` times the native pixel size, from the files' overviews (the release's
   hold renormalised means: a level 8 times coarser is a 64th of the pixels, and of the bytes), and each coarse
   cell scored. Each chunk of the 10 m grid (a tile position of the files: a 1024 px tile a band on the release)
   gets the best score of its cells.
2. Chunks are read at 10 m best first, a few side by side, while a chunk's best cell plus a **margin** beats the
   worst of the best pixels found so far. The rest are never read.

The margin is how much a cell's score can understate its best pixel. No sound value exists (see
``analysis.region_search``), so it is measured as the search goes: ``MARGIN_SAFETY`` times the most any chunk
holding matches needed (how far its best cell, computed from its 10 m pixels, lies below the worst match), at least
``MIN_MARGIN`` times the weights' length; or a fixed ``margin=``. A match much better than the rest of its cell
(a target of a few pixels in a field) can be missed, so the pruning is a heuristic whose recall is measured: the
benchmark counts how many of the exact top 100 it finds (``benchmarks/region_search.py``). Chunks without any
data in the overview are skipped soundly: an overview cell is nodata only when its whole block is.
"""

from __future__ import annotations

from concurrent.futures import Executor

import numpy as np
from rasterio.windows import Window

from ..analysis.region_search import TopPixels, cell_scores, chunk_best, unit_scores
from ..core.aoi import AOI
from ..core.grid import Grid
from ..sources.base import EmbeddingSource, mask_to_aoi, subgrid
from .base import Progress
from .region_report import LevelRead, SearchReport
from .workflows import CHUNK_BYTES, WORKERS, executor_width, map_chunks

#: How much coarser the first pass reads: 8 times (80 m), a 64th of the bytes of the 10 m read.
COARSE_FACTOR = 8
#: The measured margin is this many times the most any chunk holding matches needed.
MARGIN_SAFETY = 1.5
#: The margin is at least this many times the weights' length (a pixel's noise around its cell, before any is seen).
MIN_MARGIN = 0.05


def coarse_to_fine(
    source: EmbeddingSource, grid: Grid, year: int, aoi: AOI, weights: np.ndarray, pool: int, factor: int,
    margin: float | None, executor: Executor | None, report: Progress,
) -> tuple[TopPixels, SearchReport]:  # fmt: skip
    """The ``pool`` best pixels of the chunks a coarse pass ranks highest, and what was read at each level."""
    windows = source.chunk_windows(grid, CHUNK_BYTES)
    coarse = source.grid(aoi, resolution=grid.resolution * factor)
    coarse_windows = source.chunk_windows(coarse, CHUNK_BYTES)
    locate = _ChunkLocator(grid, windows)

    def coarse_task(window: Window) -> np.ndarray:
        # the overview is not masked to the AOI: a cell across its edge still bounds the pixels inside
        sub = subgrid(coarse, window)
        return locate.best_per_chunk(sub, unit_scores(source.read_window(sub, year), weights))

    best = np.full(len(windows), -np.inf)
    for i, (_w, chunk_max) in enumerate(map_chunks(coarse_windows, coarse_task, source=source, executor=executor)):
        np.fmax(best, chunk_max, out=best)
        report(0.2 * (i + 1) / len(coarse_windows), f"ranked {i + 1} of {len(coarse_windows)} coarse chunks")
    order = [int(i) for i in np.argsort(-best, kind="stable") if np.isfinite(best[i])]

    found = TopPixels(pool, grid.width)
    task = _fine_task(source, grid, coarse, year, aoi, weights, pool, factor)
    width = executor_width(executor) if executor is not None else WORKERS
    floor = MIN_MARGIN * float(np.linalg.norm(weights))
    done, pad = 0, floor if margin is None else float(margin)
    cells: list[tuple[float, float]] = []  # (best pixel, best cell) of each chunk read
    while done < len(order):
        # chunks go best first, so those that can still reach the top are the next few or none
        batch = [i for i in order[done : done + width] if best[i] + pad > found.threshold]
        if not batch:
            break
        for _w, (scores, positions, cell) in map_chunks(
            [windows[i] for i in batch], task, source=source, executor=executor
        ):
            found.offer(scores, positions)
            if len(scores):
                cells.append((float(scores[0]), cell))
        done += len(batch)
        # the margin each chunk holding matches needed: how far its best cell lies below the worst match
        needed = [found.threshold - cell for top_score, cell in cells if top_score >= found.threshold]
        if margin is None and found.full and needed:
            pad = max(floor, MARGIN_SAFETY * max(needed))
        left = int((best[order[done:]] + pad > found.threshold).sum())
        report(0.2 + 0.8 * done / (done + left), f"read {done} chunks at 10 m; {left} could still hold a match")
        if len(batch) < width:
            break
    coarse_px = coarse.width * coarse.height
    fine_px = int(sum(windows[i].width * windows[i].height for i in order[:done]))
    levels = (
        LevelRead(coarse.resolution, coarse_px, coarse_px, len(coarse_windows), len(coarse_windows)),
        LevelRead(grid.resolution, fine_px, grid.width * grid.height, done, len(windows)),
    )
    how = "measured" if margin is None else "given"
    pruning = (
        f"chunks pruned where no {coarse.resolution:g} m cell came within a margin of {pad:.3f} ({how}) of the "
        "top: a heuristic, recall measured, not promised"
    )
    unread = order[done:]
    unread_best = float(best[unread].max() + pad) if unread else float("nan")
    return found, SearchReport("coarse-to-fine", levels, pruning, unread_best)


def _fine_task(
    source: EmbeddingSource, grid: Grid, coarse: Grid, year: int, aoi: AOI, weights: np.ndarray, pool: int,
    factor: int,
):  # fmt: skip
    """A worker's 10 m chunk: its ``pool`` best pixels, and the score of its best cell (as the overview has it)."""
    # where the grid's first pixel lies in its coarse cell (0 on the release, whose levels share a corner)
    off_col = round((grid.transform.c - coarse.transform.c) / grid.resolution)
    off_row = round((coarse.transform.f - grid.transform.f) / grid.resolution)

    def task(window: Window) -> tuple[np.ndarray, np.ndarray, float]:
        row_off, col_off = int(window.row_off), int(window.col_off)
        field = mask_to_aoi(source.read_window(subgrid(grid, window), year), aoi)
        scores, positions = chunk_best(unit_scores(field, weights), row_off, col_off, grid.width, pool)
        if not len(scores):
            return scores, positions, float("nan")
        cells = cell_scores(field, weights, factor, ((row_off + off_row) % factor, (col_off + off_col) % factor))
        return scores, positions, float(np.nanmax(cells))

    return task


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
            x, y = coarse.transform @ (cols + dc, rows + dr)
            fine_cols, fine_rows = ~self.grid.transform @ (np.asarray(x), np.asarray(y))
            # a cell past the grid's edge still bounds the pixels of the grid it covers
            fine_rows = np.clip(np.floor(fine_rows), 0, self.grid.height - 1).astype(np.int64)
            fine_cols = np.clip(np.floor(fine_cols), 0, self.grid.width - 1).astype(np.int64)
            r = np.searchsorted(self.row_edges, fine_rows, side="right") - 1
            c = np.searchsorted(self.col_edges, fine_cols, side="right") - 1
            np.maximum.at(best, self.index[r, c], values)
        return best
