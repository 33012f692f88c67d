"""Labels from a drawn polygon: a bounded random sample of its valid pixels, not all of them.

A polygon over a field of one class holds thousands of near-duplicate pixels; training on all of them would let
one polygon outweigh every clicked point and slow every refit. So a polygon contributes at most ``n`` of its valid
pixels, drawn uniformly with the position-tied keys of ``sampling`` (the same pixels whatever the read's chunking).
"""

from __future__ import annotations

import numpy as np

from ..core.field import EmbeddingField
from .sampling import pixel_keys

#: Pixels a polygon contributes by default.
POLYGON_PIXELS = 50


def polygon_pixels(
    field: EmbeddingField, inside: np.ndarray, n: int = POLYGON_PIXELS, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, cols, vectors) of up to ``n`` random valid pixels where ``inside`` (a boolean mask on the field's
    grid, e.g. ``AOI.mask(field.grid)`` of the polygon) is True; pixels without data are never drawn."""
    if inside.shape != field.shape:
        raise ValueError(f"the polygon mask {inside.shape} does not match the field {field.shape}")
    rows, cols = np.nonzero(inside & field.mask)
    if len(rows) > n:
        keep = np.sort(np.argpartition(pixel_keys(rows, cols, seed), n - 1)[:n])
        rows, cols = rows[keep], cols[keep]
    return rows, cols, field.values[rows, cols]
