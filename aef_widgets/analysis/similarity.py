"""Similarity of every pixel to reference embeddings, and change between years.

On the unit sphere the dot product is the cosine similarity. Several references are averaged first, which gives
the same map as averaging the per-reference dot products (the Earth Engine similarity-search tutorial's recipe),
at the cost of one product instead of many.
"""

from __future__ import annotations

import numpy as np

from ..core.bands import N_BANDS
from ..core.errors import NoDataError
from ..core.field import EmbeddingField


def mean_reference(references: np.ndarray) -> np.ndarray:
    """Mean of (n, 64) reference vectors, ignoring rows without data (NaN)."""
    refs = np.asarray(references, dtype=np.float64).reshape(-1, N_BANDS)
    refs = refs[np.isfinite(refs).all(axis=1)]
    if len(refs) == 0:
        raise NoDataError("no reference has data: pick points where the map has embeddings")
    return refs.mean(axis=0).astype(np.float32)


def similarity(field: EmbeddingField, references: np.ndarray) -> np.ndarray:
    """Dot product of every pixel with the mean of the references: float32 (rows, cols), NaN without data."""
    reference = mean_reference(references)
    rows, cols = field.shape
    sim = (field.values.reshape(-1, N_BANDS) @ reference).reshape(rows, cols)
    sim[~field.mask] = np.nan
    return sim


def change(before: EmbeddingField, after: EmbeddingField) -> np.ndarray:
    """Dot product of each pixel's two embeddings (1 = unchanged): float32 (rows, cols), NaN unless both valid."""
    if before.grid != after.grid:
        raise ValueError("change needs two fields on the same grid; read both years with the same AOI and resolution")
    dot = np.einsum("ijk,ijk->ij", before.values, after.values)
    dot[~(before.mask & after.mask)] = np.nan
    return dot


def angle_degrees(dot: np.ndarray) -> np.ndarray:
    """Angle between unit vectors from their dot product, in degrees (NaN stays NaN)."""
    return np.degrees(np.arccos(np.clip(dot, -1.0, 1.0)))


def above(values: np.ndarray, threshold: float) -> np.ndarray:
    """Boolean map of ``values >= threshold``; pixels without data (NaN) are never above."""
    with np.errstate(invalid="ignore"):
        return np.asarray(values) >= threshold
