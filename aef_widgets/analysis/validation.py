"""Honest accuracy: random and spatially blocked cross-validation folds, and what they measure.

Neighbouring pixels are near duplicates, so a random fold that tests on a pixel while training on the one next to
it measures memory, not mapping: random k-fold accuracy is an upper bound. Spatial folds hold out whole blocks.

**Spatial blocks.** Labels are grouped into square blocks of ``block_size`` metres on the projected grid the labels
are given in (UTM for AEF): block ``(floor(x / size), floor(y / size))``. Two blocks are *neighbours* when they
share an edge or a corner (their indices differ by at most 1 in both directions). Whole blocks are dealt to folds
(``StratifiedGroupKFold``, so classes stay as balanced as the blocks allow), and each fold *trains only on labels
whose block is neither a test block nor a neighbour of one*. So no block and no neighbour of a block is ever on
both sides, and every training label is at least ``block_size`` metres (along x or y) from every test label.

Folds are plain lists of ``(train, test)`` index arrays, so scikit-learn's ``cross_val_score`` and
``cross_val_predict`` accept them and give the numbers ``evaluate`` reports.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

from ..core.errors import NoDataError

Folds = list[tuple[np.ndarray, np.ndarray]]
#: Default side of a spatial block, in metres: a few hundred pixels, farther than AEF's near-duplicate neighbours.
BLOCK_SIZE_M = 1000.0


def random_folds(y: np.ndarray, n_splits: int = 5, random_state: int = 0, stratified: bool = True) -> Folds:
    """Shuffled (stratified) k-fold splits; ``n_splits`` shrinks to the smallest class's count when stratified."""
    y = np.asarray(y)
    if stratified:
        n_splits = min(n_splits, int(np.unique(y, return_counts=True)[1].min()))
    _check_splits(n_splits, "labels of the rarest class" if stratified else "labels")
    cv = (StratifiedKFold if stratified else KFold)(n_splits, shuffle=True, random_state=random_state)
    return [(train, test) for train, test in cv.split(np.zeros(len(y)), y)]


def spatial_blocks(xy: np.ndarray, block_size: float = BLOCK_SIZE_M) -> np.ndarray:
    """(n, 2) integer block indices (column, row) of projected coordinates (n, 2) in metres."""
    if not block_size > 0:
        raise ValueError(f"block size must be positive, got {block_size}")
    return np.floor(np.asarray(xy, dtype=np.float64) / float(block_size)).astype(np.int64)


def spatial_folds(
    xy: np.ndarray,
    y: np.ndarray,
    block_size: float = BLOCK_SIZE_M,
    n_splits: int = 5,
    random_state: int = 0,
    stratified: bool = True,
) -> Folds:
    """Spatially blocked, buffered folds (see the module docstring): test blocks, and training labels outside
    the test blocks and their neighbours. Folds left with an empty training or test set are dropped."""
    y = np.asarray(y)
    blocks = spatial_blocks(xy, block_size)
    _, group = np.unique(blocks, axis=0, return_inverse=True)
    group = group.ravel()
    n_groups = int(group.max()) + 1 if len(group) else 0
    n_splits = min(n_splits, n_groups)
    _check_splits(n_splits, f"spatial blocks of {block_size:g} m with labels")
    if stratified:
        cv = StratifiedGroupKFold(n_splits, shuffle=True, random_state=random_state)
    else:
        cv = GroupKFold(n_splits, shuffle=True, random_state=random_state)
    folds = []
    with warnings.catch_warnings():
        # a class with fewer blocks than folds cannot be in every fold, which is what its blocks allow
        warnings.filterwarnings("ignore", "The least populated class", UserWarning)
        splits = list(cv.split(np.zeros(len(y)), y, group))
    for _, test in splits:
        near = neighbours_of(blocks, blocks[test])
        train = np.flatnonzero(~near)
        if len(train) and len(test):
            folds.append((train, test))
    if not folds:
        raise NoDataError(f"every label is within {block_size:g} m of the others; use smaller blocks")
    return folds


def neighbours_of(blocks: np.ndarray, test_blocks: np.ndarray) -> np.ndarray:
    """Boolean (n,): True where a block is one of ``test_blocks`` or shares an edge or a corner with one."""
    near = np.zeros(len(blocks), dtype=bool)
    for block in np.unique(test_blocks, axis=0):
        near |= (np.abs(blocks - block) <= 1).all(axis=1)
    return near


def _check_splits(n_splits: int, what: str) -> None:
    if n_splits < 2:
        raise NoDataError(f"cross-validation needs at least 2 {what}")


@dataclass(frozen=True)
class Accuracy:
    """Cross-validated accuracy of a classifier: per fold, pooled confusion matrix, precision and recall.

    ``confusion[i, j]`` counts held-out labels of class ``classes[i]`` predicted as ``classes[j]``.
    ``train_sizes`` says how many labels each fold trained on: spatial folds hold back the test blocks'
    neighbours too, so they train on fewer labels than random folds and are the cautious estimate.
    """

    scheme: str
    classes: tuple
    fold_scores: tuple[float, ...]
    confusion: np.ndarray
    observed: np.ndarray
    predicted: np.ndarray
    train_sizes: tuple[int, ...] = ()

    @property
    def mean(self) -> float:
        """Mean of the folds' accuracies, as ``cross_val_score(...).mean()``."""
        return float(np.mean(self.fold_scores))

    @property
    def std(self) -> float:
        return float(np.std(self.fold_scores))

    @property
    def precision(self) -> np.ndarray:
        """Per class: of the labels predicted as the class, the fraction that are (NaN if never predicted)."""
        predicted = self.confusion.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.diag(self.confusion) / predicted

    @property
    def recall(self) -> np.ndarray:
        """Per class: of the labels of the class, the fraction predicted as it (NaN if it has no held-out label)."""
        actual = self.confusion.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.diag(self.confusion) / actual


def evaluate(model, X: np.ndarray, y: np.ndarray, folds: Folds, scheme: str = "") -> Accuracy:
    """Fit a clone of ``model`` on each fold's training labels and score it on its test labels.

    Equals scikit-learn's ``cross_val_score(model, X, y, cv=folds)`` fold by fold, and the confusion matrix equals
    ``confusion_matrix(y, cross_val_predict(model, X, y, cv=folds))`` when the test sets cover every label once.
    """
    X, y = np.asarray(X), np.asarray(y)
    classes = np.unique(y)
    observed, predicted, scores = [], [], []
    for train, test in folds:
        if len(np.unique(y[train])) < 2:
            raise NoDataError("a fold's training labels hold one class only; label more places or use fewer folds")
        fitted = clone(model).fit(X[train], y[train])
        guess = fitted.predict(X[test])
        scores.append(float(np.mean(guess == y[test])))
        observed.append(y[test])
        predicted.append(guess)
    obs, pred = np.concatenate(observed), np.concatenate(predicted)
    matrix = confusion_matrix(obs, pred, labels=classes)
    sizes = tuple(len(train) for train, _ in folds)
    return Accuracy(scheme, tuple(classes.tolist()), tuple(scores), matrix, obs, pred, sizes)


@dataclass(frozen=True)
class LearningCurve:
    """Accuracy against labels per class: mean and spread over repeated draws at each size."""

    labels_per_class: tuple[int, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]


def learning_curve(
    model, X: np.ndarray, y: np.ndarray, sizes: tuple[int, ...] = (1, 2, 3, 5, 10, 20), repeats: int = 5,
    random_state: int = 0,
) -> LearningCurve:  # fmt: skip
    """Train on ``n`` random labels of each class, test on all the other labels; ``repeats`` draws per ``n``.

    Sizes that leave a class without a held-out label are left out.
    """
    X, y = np.asarray(X), np.asarray(y)
    classes, counts = np.unique(y, return_counts=True)
    rng = np.random.default_rng(random_state)
    by_class = [np.flatnonzero(y == c) for c in classes]
    kept, means, stds = [], [], []
    for n in sorted(set(int(s) for s in sizes)):
        if n < 1 or n >= counts.min():
            continue
        scores = []
        for _ in range(repeats):
            train = np.concatenate([rng.choice(idx, n, replace=False) for idx in by_class])
            test = np.setdiff1d(np.arange(len(y)), train)
            try:
                fitted = clone(model).fit(X[train], y[train])
            except NoDataError:  # too few labels for this method (3-NN from two labels)
                break
            scores.append(float(np.mean(fitted.predict(X[test]) == y[test])))
        if not scores:
            continue
        kept.append(n)
        means.append(float(np.mean(scores)))
        stds.append(float(np.std(scores)))
    return LearningCurve(tuple(kept), tuple(means), tuple(stds))
