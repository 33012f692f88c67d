"""Regression from points with values (biomass, canopy height, ...) to a map, with cross-validated errors.

``EmbeddingRegressor`` is a scikit-learn regressor on ``(n, 64)`` vectors that also predicts ``EmbeddingField``s
chunk by chunk (NaN without data). Methods: ``forest`` (random forest, as Earth Engine's regression tutorial),
``ridge`` (ridge regression on standardised bands) and ``knn`` (mean of the 5 nearest points by cosine).

``evaluate_regression`` reports what the tutorial charts: out-of-fold predictions against observations, their
R^2 and RMSE, on the same ``(train, test)`` folds as classification (random or spatially blocked).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..core.errors import NoDataError
from ..core.field import EmbeddingField
from .classify import N_TREES, labelled_vectors
from .validation import Folds

REGRESSION_METHODS = ("forest", "ridge", "knn")


def make_regressor(method: str, random_state: int = 0) -> BaseEstimator:
    """The unfitted scikit-learn regressor of one method."""
    if method == "forest":
        return RandomForestRegressor(n_estimators=N_TREES, random_state=random_state, n_jobs=1)
    if method == "ridge":
        return make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)))
    if method == "knn":
        return KNeighborsRegressor(n_neighbors=5, metric="cosine", algorithm="brute")
    raise ValueError(f"unknown regression method {method!r}; choose one of {', '.join(REGRESSION_METHODS)}")


class EmbeddingRegressor(RegressorMixin, BaseEstimator):
    """Predict a value from embeddings; ``fit`` sets ``estimator_``."""

    def __init__(self, method: str = "forest", random_state: int = 0, chunk_pixels: int = 2**16) -> None:
        self.method = method
        self.random_state = random_state
        self.chunk_pixels = chunk_pixels

    def fit(self, X: np.ndarray, y: np.ndarray) -> EmbeddingRegressor:
        """Fit on (n, 64) vectors and their values (finite numbers)."""
        X = labelled_vectors(X, y)
        y = np.asarray(y, dtype=np.float64)
        if not np.isfinite(y).all():
            raise ValueError("every point needs a finite value to learn from")
        needed = 5 if self.method == "knn" else 2
        if len(y) < needed:
            raise NoDataError(f"{self.method} regression needs at least {needed} points, got {len(y)}")
        self.estimator_ = make_regressor(self.method, self.random_state).fit(X, y)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X: EmbeddingField | np.ndarray) -> np.ndarray:
        """Values of (n, 64) vectors, or float32 (rows, cols) of a field with NaN without data."""
        if not hasattr(self, "estimator_"):
            raise RuntimeError("fit the regressor on points with values before predicting")
        if not isinstance(X, EmbeddingField):
            return self.estimator_.predict(labelled_vectors(X))
        out = np.full(X.shape, np.nan, dtype=np.float32)
        rows, cols = np.nonzero(X.mask)
        for start in range(0, len(rows), int(self.chunk_pixels)):
            r, c = rows[start : start + self.chunk_pixels], cols[start : start + self.chunk_pixels]
            out[r, c] = self.estimator_.predict(X.values[r, c])
        return out


@dataclass(frozen=True)
class RegressionAccuracy:
    """Cross-validated regression: R^2 per fold, and pooled out-of-fold predictions against observations."""

    scheme: str
    fold_r2: tuple[float, ...]
    observed: np.ndarray
    predicted: np.ndarray

    @property
    def r2(self) -> float:
        """R^2 of all out-of-fold predictions together (the observed-vs-predicted chart's)."""
        return float(r2_score(self.observed, self.predicted))

    @property
    def rmse(self) -> float:
        """Root mean squared error of the out-of-fold predictions, in the values' unit."""
        return float(np.sqrt(np.mean((self.observed - self.predicted) ** 2)))


def evaluate_regression(model, X: np.ndarray, y: np.ndarray, folds: Folds, scheme: str = "") -> RegressionAccuracy:
    """Fit a clone of ``model`` per fold; ``fold_r2`` equals ``cross_val_score(model, X, y, cv=folds,
    scoring="r2")`` and the pooled pairs equal ``cross_val_predict`` when the test sets cover every point once."""
    X, y = np.asarray(X), np.asarray(y, dtype=np.float64)
    observed, predicted, scores = [], [], []
    for train, test in folds:
        guess = clone(model).fit(X[train], y[train]).predict(X[test])
        scores.append(float(r2_score(y[test], guess)) if len(test) > 1 else float("nan"))
        observed.append(y[test])
        predicted.append(guess)
    return RegressionAccuracy(scheme, tuple(scores), np.concatenate(observed), np.concatenate(predicted))
