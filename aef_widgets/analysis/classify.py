"""Supervised classification of embeddings from a few labelled pixels, in the scikit-learn manner.

``EmbeddingClassifier`` fits on ``(n, 64)`` vectors and their classes, and predicts on vectors or on whole
``EmbeddingField``s: a field is predicted chunk by chunk over its valid pixels only, so memory stays bounded and a
pixel without data never gets a class (``NO_CLASS``, -1, as k-means labels them).

Methods: ``knn1`` and ``knn3`` (nearest labelled pixels by cosine, the measure the embeddings are made for),
``logistic`` (multinomial logistic regression on standardised bands, L2-regularised), ``forest`` (a random forest),
and ``auto``: logistic regression unless a paired test on cross-validated labels shows another method is better
(``classify_choice``; ``choice_`` says what was chosen and why in words).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..core.bands import N_BANDS
from ..core.errors import NoDataError
from ..core.field import EmbeddingField
from .blas import one_blas_thread
from .classify_choice import AUTO_FOLDS, DEFAULT, choose_method
from .classify_fast import FastProba, top_two_class_major
from .kmeans import NO_CLASS

#: The methods ``auto`` chooses from: the default first, then the order ``choose_scores`` breaks ties in.
CANDIDATES = (DEFAULT, "forest", "knn3", "knn1")
METHODS = ("auto", *CANDIDATES)
#: Trees of the random forest: at a few labels per class 50 trees are as accurate as 100 (on the sample) and fit,
#: cross-validate and map in half the time, which keeps a refit after each new label under a second.
N_TREES = 50


def make_estimator(method: str, random_state: int = 0) -> BaseEstimator:
    """The unfitted scikit-learn estimator of one method (not ``auto``)."""
    if method in ("knn1", "knn3"):
        return KNeighborsClassifier(n_neighbors=int(method[-1]), metric="cosine", algorithm="brute")
    if method == "logistic":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    if method == "forest":
        return RandomForestClassifier(n_estimators=N_TREES, random_state=random_state, n_jobs=1)
    raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")


def labelled_vectors(X: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    """``X`` as float (n, 64), or a NoDataError naming the labels that have no embedding."""
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[1] != N_BANDS:
        raise ValueError(f"expected (n, {N_BANDS}) vectors, got shape {X.shape}")
    if y is not None and len(y) != len(X):
        raise ValueError(f"{len(X)} vectors but {len(y)} labels")
    empty = np.flatnonzero(~(np.isfinite(X).all(axis=1) & (X != 0).any(axis=1)))
    if len(empty):
        shown = ", ".join(map(str, empty[:5])) + (" ..." if len(empty) > 5 else "")
        raise NoDataError(f"{len(empty)} labelled points have no embedding (rows {shown}); remove them or move them")
    return X


@dataclass(frozen=True)
class ClassMap:
    """A classified field: class per pixel (-1 = no data), top probability and the margin to the runner-up."""

    labels: np.ndarray
    confidence: np.ndarray
    margin: np.ndarray


class EmbeddingClassifier(ClassifierMixin, BaseEstimator):
    """Classify embeddings by ``method`` (see the module docstring); a scikit-learn classifier.

    ``fit`` sets ``method_`` (the method used, chosen when ``auto``), ``estimator_``, ``classes_`` and, for
    ``auto``, ``choice_`` (a ``Choice``: why, in ``choice_.reason``) and ``cv_scores_`` (each candidate's
    cross-validated accuracy on the labels, pooled over the folds).
    """

    def __init__(self, method: str = "auto", random_state: int = 0, chunk_pixels: int = 2**16) -> None:
        self.method = method
        self.random_state = random_state
        self.chunk_pixels = chunk_pixels

    def fit(self, X: np.ndarray, y: np.ndarray) -> EmbeddingClassifier:
        """Fit on (n, 64) labelled vectors; ``y`` holds class ids or names."""
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}; choose one of {', '.join(METHODS)}")
        X = labelled_vectors(X, y)
        y = np.asarray(y)
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) < 2:
            raise NoDataError("label at least two classes to classify")
        method = self.method
        with one_blas_thread():  # a few labels: BLAS's other threads would only spin (analysis.blas)
            if method == "auto":
                self.choice_ = choose_method(X, y, CANDIDATES, make_estimator, self.random_state)
                self.cv_scores_ = dict(self.choice_.scores)
                method = self.choice_.method
            if method == "knn3" and len(X) < 3:
                raise NoDataError("3-NN needs at least 3 labels")
            self.method_ = method
            self.estimator_ = make_estimator(method, self.random_state).fit(X, y)
        self.classes_ = self.estimator_.classes_
        self.n_features_in_ = N_BANDS
        return self

    # plain vectors ----------------------------------------------------------------------------------------
    def predict_proba(self, X: EmbeddingField | np.ndarray) -> np.ndarray:
        """(n, n_classes) probabilities of vectors, or (rows, cols, n_classes) of a field (NaN without data)."""
        self._check_fitted()
        if isinstance(X, EmbeddingField):
            return self._field_proba(X)
        return self.estimator_.predict_proba(labelled_vectors(X))

    def predict(self, X: EmbeddingField | np.ndarray) -> np.ndarray:
        """Classes of vectors, or int16 (rows, cols) class indices of a field (``NO_CLASS`` without data)."""
        self._check_fitted()
        if isinstance(X, EmbeddingField):
            return self.classify(X).labels
        return self.estimator_.predict(labelled_vectors(X))

    def score(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> float:
        """Accuracy on labelled vectors."""
        return float(super().score(X, y, sample_weight))

    # fields -----------------------------------------------------------------------------------------------
    def classify(self, field: EmbeddingField) -> ClassMap:
        """Labels (indices into ``classes_``), confidence and margin of every pixel, chunk by chunk.

        Pixels without data keep ``NO_CLASS`` and NaN: they are never given to the estimator as vectors.
        """
        labels = np.full(field.shape, NO_CLASS, dtype=np.int16)
        confidence = np.full(field.shape, np.nan, dtype=np.float32)
        margin = np.full(field.shape, np.nan, dtype=np.float32)
        flat = (labels.reshape(-1), confidence.reshape(-1), margin.reshape(-1))
        for where, valid, proba, major in self._chunk_probabilities(field):
            for out, values in zip(flat, top_two_class_major(proba) if major else top_two(proba)):
                np.copyto(out[where], values, where=valid, casting="unsafe")
        return ClassMap(labels, confidence, margin)

    def _field_proba(self, field: EmbeddingField) -> np.ndarray:
        out = np.full((field.mask.size, len(self.classes_)), np.nan, dtype=np.float32)
        for where, valid, proba, major in self._chunk_probabilities(field):
            np.copyto(out[where], proba.T if major else proba, where=valid[:, None])
        return out.reshape(*field.shape, len(self.classes_))

    def _chunk_probabilities(self, field: EmbeddingField):
        """``(slice of the flat pixels, their mask, probabilities, class-major?)`` chunk by chunk: the fast path
        gives class-major (n_classes, n) with NaN without data, scikit-learn's (n, n_classes) with zeros there."""
        self._check_fitted()
        fast = FastProba(self.estimator_)
        values, mask = field.values.reshape(-1, N_BANDS), field.mask.reshape(-1)
        norms = field.norms.reshape(-1) if fast.available else None
        step = int(self.chunk_pixels)
        for start in range(0, mask.size, step):
            where = slice(start, start + step)
            valid = mask[where]
            if fast.available:
                # all rows, nodata included (NaN in, NaN out): cheaper than gathering the valid rows first
                yield where, valid, fast(values[where], norms[where]), True
            elif valid.any():
                proba = np.zeros((int(valid.size), len(self.classes_)), dtype=np.float32)
                proba[valid] = self.estimator_.predict_proba(values[where][valid])
                yield where, valid, proba, False

    def _check_fitted(self) -> None:
        if not hasattr(self, "estimator_"):
            raise RuntimeError("fit the classifier on labelled points before predicting")


def top_two(proba: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(most probable class index, its probability, its lead over the second most probable) of (n, k) rows.

    A row of one class only (k = 1) has margin 1. Ties go to the lower class index, as ``argmax`` breaks them.
    """
    best = proba.argmax(axis=1)
    rows = np.arange(len(proba))
    top = proba[rows, best]
    if proba.shape[1] < 2:
        return best, top, np.ones_like(top)
    others = proba.copy()  # cheaper than a partition for a few classes
    others[rows, best] = -np.inf
    return best, top, top - others.max(axis=1)


def choose_scores(X: np.ndarray, y: np.ndarray, random_state: int = 0) -> dict[str, float]:
    """Mean stratified k-fold accuracy of every candidate method, on the same folds (Earth Engine's ``auto``,
    which has no logistic regression to default to, picks the best of its methods by these)."""
    counts = np.unique(y, return_counts=True)[1]
    folds = min(AUTO_FOLDS, int(counts.min()))
    if folds < 2:  # a class with one label cannot be held out: fall back to the tie order
        return {m: 0.0 for m in CANDIDATES}
    cv = StratifiedKFold(folds, shuffle=True, random_state=random_state)
    scores = {}
    for method in CANDIDATES:
        if method == "knn3" and len(X) * (folds - 1) / folds < 3:
            scores[method] = -1.0
            continue
        estimator = clone(make_estimator(method, random_state))
        scores[method] = float(cross_val_score(estimator, X, y, cv=cv).mean())
    return scores


def classify(
    field: EmbeddingField, X: np.ndarray, y: np.ndarray, method: str = "auto", random_state: int = 0
) -> tuple[ClassMap, EmbeddingClassifier]:
    """Classify a field from labelled vectors: (class map, fitted model). The function twin of the classifier."""
    model = EmbeddingClassifier(method, random_state).fit(X, y)
    return model.classify(field), model
