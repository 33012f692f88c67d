"""Similarity with negative examples: "like these, not like those".

**The score.** With positive references ``p_1..p_m`` and negative references ``n_1..n_k``, every vector scaled to
unit length (written ^), a pixel ``x`` scores

    score(x) = mean_i cos(x, p_i) - mean_j cos(x, n_j)
             = x^ . (mean_i p_i^ - mean_j n_j^)

from -2 to 2: high where a pixel resembles the positives more than the negatives, 0 where it resembles both alike.
Without negatives it is the mean of the per-reference cosines, the similarity of the probe. Because the score is
linear in ``x^``, it is one dot product with the weight vector ``contrast_weights`` on either engine, and the map,
the readout at a point and the area above a threshold all come from that one number.
"""

from __future__ import annotations

import numpy as np

from ..core.bands import N_BANDS
from ..core.errors import NoDataError
from ..core.field import EmbeddingField
from .blas import one_blas_thread


def _unit_references(references: np.ndarray | None, what: str) -> np.ndarray:
    refs = np.asarray(references if references is not None else np.empty((0, N_BANDS)), dtype=np.float64)
    refs = refs.reshape(-1, N_BANDS)
    valid = np.isfinite(refs).all(axis=1) & (refs != 0).any(axis=1)
    if not valid.all():
        raise NoDataError(f"{int((~valid).sum())} {what} references have no embedding; pick points with data")
    return refs / np.linalg.norm(refs, axis=1, keepdims=True)


def contrast_weights(positives: np.ndarray, negatives: np.ndarray | None = None) -> np.ndarray:
    """float64 (64,) ``mean(unit positives) - mean(unit negatives)``; the score is ``unit(x) @ weights``."""
    pos = _unit_references(positives, "positive")
    if len(pos) == 0:
        raise NoDataError("mark at least one positive reference (what you are looking for)")
    neg = _unit_references(negatives, "negative")
    weights = pos.mean(axis=0)
    if len(neg):
        weights = weights - neg.mean(axis=0)
    return weights


def contrast_score(X: EmbeddingField | np.ndarray, positives: np.ndarray, negatives: np.ndarray | None = None):
    """Mean cosine to the positives minus mean cosine to the negatives (see the module docstring).

    For a field: float32 (rows, cols), NaN without data. For vectors (..., 64): float64 (...), NaN for rows
    without data.
    """
    weights = contrast_weights(positives, negatives)
    if isinstance(X, EmbeddingField):
        rows, cols = X.shape
        with one_blas_thread():
            score = (X.values.reshape(-1, N_BANDS) @ weights.astype(np.float32)).reshape(rows, cols)
        score /= X.norms
        score[~X.mask] = np.nan
        return score
    v = np.asarray(X, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = (v @ weights) / np.linalg.norm(v, axis=-1)
    return np.where(np.isfinite(v).all(axis=-1) & (v != 0).any(axis=-1), score, np.nan)
