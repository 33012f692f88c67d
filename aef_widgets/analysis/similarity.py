"""Similarity of every pixel to reference embeddings, and change between years.

AEF embeddings are unit vectors, so their dot product is the cosine of the angle between them. The int8 encoding
moves their lengths by up to about 1.5%, which a raw dot product would carry into every number (a pixel would be
0.99 or 1.01 similar to itself), so vectors are scaled to unit length first: similarity is the cosine, exactly 1
for a pixel and itself.

With several references, the similarity of a pixel is the mean of its cosines to each reference (the Earth Engine
similarity-search tutorial's recipe). Since the pixel is at unit length, that equals its dot product with the mean
of the unit references, which costs one product instead of one per reference. That mean is *not* renormalised:
the cosine to the centroid's direction would be a different, larger number.

Change between two years is 1 minus the cosine of a pixel's two embeddings: 0 for an unchanged pixel, up to 2.
"""

from __future__ import annotations

import numpy as np

from ..core.bands import N_BANDS
from ..core.errors import GridMismatchError, NoDataError
from ..core.field import EmbeddingField
from .blas import one_blas_thread


def unit(vectors: np.ndarray) -> np.ndarray:
    """Vectors (..., 64) scaled to unit length (float64); NaN stays NaN."""
    v = np.asarray(vectors, dtype=np.float64)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def mean_reference(references: np.ndarray) -> np.ndarray:
    """Mean of (n, 64) reference vectors scaled to unit length, ignoring rows without data (NaN)."""
    refs = np.asarray(references, dtype=np.float64).reshape(-1, N_BANDS)
    refs = refs[np.isfinite(refs).all(axis=1) & (refs != 0).any(axis=1)]
    if len(refs) == 0:
        raise NoDataError("no reference has data: pick points where the map has embeddings")
    return unit(refs).mean(axis=0).astype(np.float32)


def reference_similarity(vector: np.ndarray, references: np.ndarray) -> float:
    """Similarity of one 64-vector to (n, 64) references, as ``similarity`` computes it for a pixel."""
    return float(unit(vector) @ mean_reference(references))


def similarity(field: EmbeddingField, references: np.ndarray) -> np.ndarray:
    """Mean cosine of every pixel to the (n, 64) references: float32 (rows, cols), NaN without data."""
    reference = mean_reference(references)
    rows, cols = field.shape
    with one_blas_thread():
        sim = (field.values.reshape(-1, N_BANDS) @ reference).reshape(rows, cols)
    sim /= field.norms
    sim[~field.mask] = np.nan
    return sim


def cosine(before: EmbeddingField, after: EmbeddingField) -> np.ndarray:
    """Cosine of each pixel's two embeddings (1 = same direction): float32 (rows, cols), NaN unless both valid."""
    if before.grid != after.grid:
        raise GridMismatchError(
            "comparing years needs two fields on the same grid; read both years with the same AOI and resolution"
        )
    dot = np.einsum("ijk,ijk->ij", before.values, after.values)
    dot /= before.norms * after.norms
    dot[~(before.mask & after.mask)] = np.nan
    return dot


def change(before: EmbeddingField, after: EmbeddingField) -> np.ndarray:
    """Change of each pixel between two years, 1 - cosine (0 = unchanged): float32 (rows, cols), NaN unless both
    valid."""
    return 1 - cosine(before, after)


def angle_degrees(dot: np.ndarray) -> np.ndarray:
    """Angle between unit vectors from their dot product, in degrees (NaN stays NaN)."""
    return np.degrees(np.arccos(np.clip(dot, -1.0, 1.0)))


def above(values: np.ndarray, threshold: float) -> np.ndarray:
    """Boolean map of ``values >= threshold``; pixels without data (NaN) are never above."""
    with np.errstate(invalid="ignore"):
        return np.asarray(values) >= threshold
