"""The math of a search for the best-scoring pixels of a region: scores, a bounded top list, the coarse bound, and
one best pixel per neighbourhood.

**Score and tie order.** A pixel scores ``contrast_score``: ``unit(x) . w`` with ``w = contrast_weights(positives,
negatives)``. Here it is computed with a dot product whose rounding does not depend on where a pixel sits in a
chunk (BLAS kernels treat a chunk's last rows differently, so two equal vectors could differ by one float32 step),
so equal vectors always score equal; it matches ``contrast_score`` to a float32 rounding. Pixels are ranked by
score, highest first; equal scores by position on the region's grid, north first, then west first. Pixels without
data are never scored.

**The coarse bound.** A coarse cell of the release's overviews holds the renormalised mean ``u`` of its pixels'
unit vectors; its score ``u . w`` is the cosine ``cos(a)`` times ``|w|``. The cell's pixels can score more than
that, and from ``u`` alone by any amount: one odd pixel of 64 moves the mean by little. If every pixel lies within
an angle ``t`` of ``u``, though, no pixel scores more than ``|w| cos(max(a - t, 0))`` (the best point of a
spherical cap), which is what ``cap_bound`` returns. So the bound is sound for cells no wider than ``t`` and a
heuristic for the others: on the real 96 px AEF raster of the tests, 90% of 8 x 8 px cells have every pixel within
38 degrees of their mean, 99% within 51 (the search's recall is measured, not promised: see the README).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.bands import N_BANDS
from ..core.field import EmbeddingField

#: Mean radius of the Earth, metres (for distances between nearby points).
EARTH_RADIUS_M = 6_371_008.8


def unit_scores(field: EmbeddingField, weights: np.ndarray) -> np.ndarray:
    """``unit(x) . weights`` of every pixel: float32 (rows, cols), NaN without data; equal vectors score equal."""
    rows, cols = field.shape
    dots = np.einsum("ij,j->i", field.values.reshape(-1, N_BANDS), weights.astype(np.float32)).reshape(rows, cols)
    with np.errstate(invalid="ignore", divide="ignore"):
        dots /= field.norms
    dots[~field.mask] = np.nan
    return dots


def cap_bound(score: np.ndarray, weight_norm: float, spread_deg: float) -> np.ndarray:
    """The most a pixel within ``spread_deg`` of a cell's mean direction can score, from the cell's score."""
    angle = np.arccos(np.clip(np.asarray(score, dtype=np.float64) / weight_norm, -1.0, 1.0))
    return weight_norm * np.cos(np.maximum(angle - np.radians(spread_deg), 0.0))


@dataclass
class TopPixels:
    """The ``size`` best pixels seen so far (score, then row, then column), merged chunk by chunk."""

    size: int
    width: int  # of the grid the rows and columns are on: positions are ``row * width + col``
    scores: np.ndarray = None  # type: ignore[assignment]
    positions: np.ndarray = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.scores = np.empty(0, dtype=np.float32)
        self.positions = np.empty(0, dtype=np.int64)

    @property
    def full(self) -> bool:
        return len(self.scores) >= self.size

    @property
    def threshold(self) -> float:
        """The score a pixel must beat to enter: the last kept one's once full, else minus infinity."""
        return float(self.scores[-1]) if self.full else -np.inf

    def offer(self, scores: np.ndarray, positions: np.ndarray) -> None:
        """Merge candidates (already the best of their chunk, or any pixels) into the list."""
        self.scores, self.positions = best(
            np.concatenate([self.scores, scores]), np.concatenate([self.positions, positions]), self.size
        )


def best(scores: np.ndarray, positions: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``size`` best of these (score descending, then position ascending), sorted; NaN scores dropped."""
    keep = np.isfinite(scores)
    scores, positions = scores[keep], positions[keep]
    if len(scores) > size:  # cut to those at least as good as the size-th, ties at the edge included, then sort
        edge = np.partition(scores, len(scores) - size)[len(scores) - size]
        keep = scores >= edge
        scores, positions = scores[keep], positions[keep]
    order = np.lexsort((positions, -scores))[:size]
    return scores[order], positions[order]


def chunk_best(scores: np.ndarray, row_off: int, col_off: int, width: int, size: int) -> tuple[np.ndarray, ...]:
    """The ``size`` best pixels of a chunk's scores, with their positions on the whole grid (``width`` wide)."""
    flat = scores.ravel()
    index = np.flatnonzero(np.isfinite(flat))
    if len(index) > size:  # positions only for the pixels that can be kept: a chunk is a million pixels
        values = flat[index]
        edge = np.partition(values, len(values) - size)[len(values) - size]
        index = index[values >= edge]
    rows, cols = np.divmod(index, scores.shape[1])
    return best(flat[index], (rows + row_off) * width + (cols + col_off), size)


def neighbourhood_pixels(min_distance_m: float, resolution_m: float) -> int:
    """Most pixels one kept pixel can suppress: those within ``min_distance_m`` of it (at least 1)."""
    return max(1, int(np.pi * (min_distance_m / resolution_m + 1) ** 2))


def suppress(lon: np.ndarray, lat: np.ndarray, top: int, min_distance_m: float) -> np.ndarray:
    """Indexes of ranked points (best first) kept when each keeps only itself within ``min_distance_m``: the
    greedy best-first choice, ``top`` of them at most. Distances are local (equirectangular), exact to well under
    a percent for the kilometres a neighbourhood spans."""
    if min_distance_m <= 0:
        return np.arange(min(top, len(lon)))
    y = np.radians(np.asarray(lat, dtype=np.float64)) * EARTH_RADIUS_M
    lon_r = np.radians(np.asarray(lon, dtype=np.float64))
    alive = np.arange(len(lon))
    kept: list[int] = []
    while len(alive) and len(kept) < top:
        i = alive[0]
        kept.append(int(i))
        dx = (lon_r[alive] - lon_r[i]) * np.cos(np.radians(lat[i])) * EARTH_RADIUS_M
        dy = y[alive] - y[i]
        alive = alive[dx * dx + dy * dy >= min_distance_m**2]
    return np.array(kept, dtype=np.int64)
