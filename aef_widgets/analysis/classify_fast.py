"""Class probabilities of whole fields at the speed of one matrix product, for the methods that allow it.

scikit-learn's ``predict_proba`` validates and copies its input, works in float64 and, for the logistic pipeline,
standardises every pixel before the product; on a million pixels that costs seconds where the arithmetic needs a
tenth of that. For logistic regression the standardisation is folded into the weights (``(x - m) / s . w`` is
``x . (w / s) - m / s . w``) and the softmax taken in float32; for k-NN the cosines to all labelled vectors are
one product with the unit labels, divided by the pixels' lengths. Both give scikit-learn's probabilities to float32
rounding (tested), so labels differ only where two classes are equally likely to within about 1e-6. The forest has
no such shortcut and goes through scikit-learn.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

#: Cosines held at once by k-NN (rows x labels), about 16 MiB of float32.
_KNN_CELLS = 2**22


class FastProba:
    """Probabilities of a fitted logistic pipeline or cosine k-NN, on float32 rows (NaN rows give NaN)."""

    def __init__(self, estimator) -> None:
        self.kind = None
        if isinstance(estimator, Pipeline) and len(estimator.steps) == 2:
            scaler, logistic = estimator.steps[0][1], estimator.steps[1][1]
            if isinstance(scaler, StandardScaler) and isinstance(logistic, LogisticRegression):
                coef = logistic.coef_ / scaler.scale_
                # padded to 8 columns, as k-means pads its centres: BLAS multiplies by 8 columns several times
                # faster than by 5 or 6; the padding rows of the product are dropped before the softmax
                k = len(coef)
                self.n_logits = k
                self.weights = np.zeros((coef.shape[1], -(-k // 8) * 8), dtype=np.float32)
                self.weights[:, :k] = coef.T
                self.offsets = np.zeros(self.weights.shape[1], dtype=np.float32)
                self.offsets[:k] = logistic.intercept_ - coef @ scaler.mean_
                self.kind = "logistic"
        elif isinstance(estimator, KNeighborsClassifier) and (
            estimator.metric,
            estimator.weights,
            estimator.outputs_2d_,
        ) == ("cosine", "uniform", False):
            # labelled vectors sorted by class, so each class's cosines are one slice of rows
            order = np.argsort(estimator._y, kind="stable")
            refs = estimator._fit_X[order].astype(np.float64)
            self.refs = (refs / np.linalg.norm(refs, axis=1, keepdims=True)).T.astype(np.float32)
            self.k = estimator.n_neighbors
            self.n_classes = len(estimator.classes_)
            bounds = np.searchsorted(estimator._y[order], np.arange(self.n_classes + 1))
            self.class_rows = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
            self.kind = "knn"

    @property
    def available(self) -> bool:
        return self.kind is not None

    def __call__(self, X: np.ndarray, norms: np.ndarray) -> np.ndarray:
        """(n_classes, n) float32 probabilities of (n, 64) float32 rows whose lengths are ``norms``.

        Class-major, so that every step after the product works on long contiguous rows: numpy reduces over a
        short last axis several times slower.
        """
        if self.kind == "knn":
            return self._knn(X, norms)
        logits = self.weights.T @ X.T  # BLAS reads X transposed in place
        logits += self.offsets[:, None]
        if self.n_logits == 1:  # two classes: one logit, as scikit-learn's binary case
            with np.errstate(over="ignore"):  # exp overflows to inf for very negative logits: p is then 0
                p = 1 / (1 + np.exp(-logits[:1]))
            return np.concatenate([1 - p, p], axis=0)
        logits = logits[: self.n_logits]
        logits -= logits.max(axis=0)  # softmax in place, in float32
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=0)
        return logits

    def _knn(self, X: np.ndarray, norms: np.ndarray) -> np.ndarray:
        """Class-major vote shares of the ``k`` labelled vectors of highest cosine.

        The k-th highest cosine of each pixel is found by running maxima over the labelled vectors (contiguous
        passes, no per-pixel sort); a class's votes are its labelled vectors at or above it.
        """
        n = len(X)
        votes = np.zeros((self.n_classes, n), dtype=np.float32)
        step = max(256, _KNN_CELLS // self.refs.shape[1])
        for start in range(0, n, step):
            cos = self.refs.T @ X[start : start + step].T  # (labels, pixels)
            cos /= norms[start : start + step]
            share = votes[:, start : start + step]
            if self.k == 1:  # the nearest class: the one holding the highest cosine
                for c, rows in enumerate(self.class_rows):
                    share[c] = cos[rows].max(axis=0, initial=-np.inf)
                np.equal(share, share.max(axis=0), out=share, casting="unsafe")
            else:
                kth = _kth_largest(cos, self.k)
                for c, rows in enumerate(self.class_rows):
                    share[c] = np.count_nonzero(cos[rows] >= kth, axis=0)
        with np.errstate(invalid="ignore"):
            votes /= votes.sum(axis=0)  # NaN rows had no votes: 0 / 0 keeps them NaN
        return votes


def _kth_largest(values: np.ndarray, k: int) -> np.ndarray:
    """The k-th largest of each column of (m, n) values, keeping each column's top k sorted while passing rows."""
    top = np.full((k, values.shape[1]), -np.inf, dtype=values.dtype)
    carry, spare = np.empty_like(top[0]), np.empty_like(top[0])
    for row in values:
        carry[:] = row
        for j in range(k):
            np.minimum(top[j], carry, out=spare)  # the smaller moves down a rank
            np.maximum(top[j], carry, out=top[j])
            carry, spare = spare, carry
    return top[k - 1]


def top_two_class_major(proba: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``classify.top_two`` of class-major (n_classes, n) probabilities, by running maxima over the classes."""
    best = proba.argmax(axis=0)
    first = proba[0].copy()
    second = np.full_like(first, -np.inf)
    for row in proba[1:]:
        np.maximum(second, np.minimum(first, row), out=second)
        np.maximum(first, row, out=first)
    if len(proba) < 2:
        return best, first, np.ones_like(first)
    return best, first, first - second
