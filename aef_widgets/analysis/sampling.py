"""Uniform random samples of valid pixels that do not depend on how an AOI was read.

Each pixel gets a pseudo-random key from its position in the grid and the seed (a splitmix64 hash); the sample is
the ``n`` valid pixels with the smallest keys. That is a uniform sample without replacement, and because keys are
tied to positions, reading the AOI whole or chunk by chunk selects exactly the same pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.bands import N_BANDS
from ..core.errors import UsageError
from ..core.field import EmbeddingField


def pixel_keys(rows: np.ndarray, cols: np.ndarray, seed: int) -> np.ndarray:
    """uint64 keys of pixels, uniformly distributed and fixed by (row, col, seed)."""
    with np.errstate(over="ignore"):
        z = (rows.astype(np.uint64) << np.uint64(32)) ^ cols.astype(np.uint64)
        z = z + np.uint64(0x9E3779B97F4A7C15) * np.uint64(seed + 1)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def candidates(field: EmbeddingField, n: int, seed: int, row_off: int = 0, col_off: int = 0) -> Candidates:
    """The ``n`` valid pixels of a field with the smallest keys: the only ones that can be in a sample of ``n``.

    ``(row_off, col_off)`` is where the field's top-left pixel sits in the AOI's grid. Pure and per chunk, so the
    work can be spread over threads while ``PixelSampler.offer`` merges the results.
    """
    rows, cols = np.nonzero(field.mask)
    keys = pixel_keys(rows + row_off, cols + col_off, seed)
    if len(keys) > n:
        keep = np.argpartition(keys, n - 1)[:n]
        rows, cols, keys = rows[keep], cols[keep], keys[keep]
    return Candidates(keys, field.values[rows, cols], int(np.count_nonzero(field.mask)))


@dataclass(frozen=True)
class Candidates:
    """Sampling keys and vectors of a chunk's best pixels, and how many valid pixels the chunk had."""

    keys: np.ndarray
    vectors: np.ndarray
    valid: int


#: Most pixels any sample holds (256 MB of vectors); k-means allows fewer (``kmeans.MAX_KMEANS_SAMPLES``).
MAX_SAMPLE_PIXELS = 1_000_000


class PixelSampler:
    """Keeps the ``n`` valid pixels with the smallest keys among all the chunks it is shown."""

    def __init__(self, n: int, seed: int = 0) -> None:
        if n < 1:
            raise UsageError("the sample needs at least one pixel")
        if n > MAX_SAMPLE_PIXELS:  # a bound on memory (256 bytes a pixel) whoever asks
            raise UsageError(f"a sample of {n:,} pixels is too large; at most {MAX_SAMPLE_PIXELS:,} are kept in memory")
        self.n = n
        self.seed = seed
        self._keys = np.empty(0, dtype=np.uint64)
        self._vectors = np.empty((0, N_BANDS), dtype=np.float32)
        self.seen = 0

    def update(self, field: EmbeddingField, row_off: int = 0, col_off: int = 0) -> PixelSampler:
        """Consider the valid pixels of a field whose top-left pixel sits at (row_off, col_off) of the AOI grid."""
        return self.offer(candidates(field, self.n, self.seed, row_off, col_off))

    def offer(self, found: Candidates) -> PixelSampler:
        """Merge a chunk's candidates (from ``candidates`` with this sampler's ``n`` and ``seed``)."""
        self.seen += found.valid
        keys = np.concatenate([self._keys, found.keys])
        vectors = np.concatenate([self._vectors, found.vectors])
        if len(keys) > self.n:
            keep = np.argpartition(keys, self.n - 1)[: self.n]
            keys, vectors = keys[keep], vectors[keep]
        order = np.argsort(keys, kind="stable")
        self._keys, self._vectors = keys[order], vectors[order]
        return self

    @property
    def vectors(self) -> np.ndarray:
        """(m, 64) sampled vectors, m = min(n, valid pixels seen)."""
        return self._vectors.copy()


def sample_valid(field: EmbeddingField, n: int, seed: int = 0) -> np.ndarray:
    """(min(n, valid), 64) random valid vectors of a field."""
    return PixelSampler(n, seed).update(field).vectors
