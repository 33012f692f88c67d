"""The math of a search for the best-scoring pixels of a region: scores, a bounded top list, the coarse bound, and
one best pixel per neighbourhood.

**Score and tie order.** A pixel scores ``contrast_score``: ``unit(x) . w`` with ``w = contrast_weights(positives,
negatives)``. Here it is computed with a dot product whose rounding does not depend on where a pixel sits in a
chunk (BLAS kernels treat a chunk's last rows differently, so two equal vectors could differ by one float32 step),
so equal vectors always score equal; it matches ``contrast_score`` to a float32 rounding. Pixels are ranked by
score, highest first; equal scores by position on the region's grid, north first, then west first. Pixels without
data are never scored.

**No sound bound from an overview.** A coarse cell of the release's overviews holds the renormalised mean ``u``
of its pixels' unit vectors, and scores ``u . w``. Its pixels can score more than that, and from ``u`` alone by any
amount: one odd pixel of 64 moves the mean by little. Even the tightest geometric bound, a spherical cap around
``u`` holding every pixel, is too loose to prune: on the real 96 px AEF raster of the tests, the pixels of an
8 x 8 px cell lie up to 27 degrees from its mean (median; 38 at the 90th percentile), and a cap that wide lets a
cell of cosine 0.45 reach 0.92. What a pixel gains over its cell along one direction ``w`` is far smaller (a
64-dimensional deviation mostly points elsewhere): median 0.065 |w|, 90th percentile 0.18 |w| on that raster for
``w`` a real pixel's direction. So coarse-to-fine prunes with a **margin** over the cell's score, measured as the
search goes (how far below the worst match the best cell of each chunk holding matches lay), and its recall is
measured, not promised.
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


def cell_scores(field: EmbeddingField, weights: np.ndarray, factor: int, offset: tuple[int, int]) -> np.ndarray:
    """The score of each ``factor`` x ``factor`` cell's renormalised mean of unit vectors (what an overview of the
    release holds), computed from the 10 m field: (cell rows, cell cols), NaN for a cell without data. ``offset``
    (rows, cols) is where the field's first pixel lies in its cell."""
    r0, c0 = offset
    rows, cols = field.shape
    n_rows, n_cols = -(-(rows + r0) // factor), -(-(cols + c0) // factor)
    out = np.full((n_rows, n_cols), np.nan, dtype=np.float32)
    values = field.values
    for i in range(n_rows):  # a strip of cells at a time: the unit vectors of a whole chunk would be 256 MiB
        top, bottom = max(0, i * factor - r0), min(rows, (i + 1) * factor - r0)
        strip = values[top:bottom] / field.norms[top:bottom, :, None]
        strip[~field.mask[top:bottom]] = 0
        padded = np.zeros((factor, n_cols * factor, N_BANDS), dtype=np.float32)
        padded[: bottom - top, c0 : c0 + cols] = strip
        sums = padded.reshape(factor, n_cols, factor, N_BANDS).sum(axis=(0, 2))
        norms = np.linalg.norm(sums, axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[i] = np.where(norms > 0, (sums @ weights.astype(np.float32)) / norms, np.nan)
    return out


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
    if len(scores) > size:  # cut to those at least as good as the size-th, ties at the edge included
        edge = np.partition(np.where(keep, scores, -np.inf), len(scores) - size)[len(scores) - size]
        keep &= scores >= edge
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
