"""Honest accuracy: numbers equal scikit-learn's on the same folds; spatial folds keep neighbours apart."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import cross_val_predict, cross_val_score

from aef_widgets import EmbeddingClassifier, evaluate, learning_curve, random_folds, spatial_folds
from aef_widgets.analysis import neighbours_of, spatial_blocks
from aef_widgets.core.errors import NoDataError


@pytest.fixture(scope="module")
def labels() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vectors, classes, projected xy in metres) of 150 labelled points in a 6 km square, three classes whose
    vectors drift with position, so that nearby points are alike as in real embeddings."""
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 6000, size=(150, 2)) + np.array([352_000, 4_901_000])
    y = rng.integers(0, 3, 150)
    centres, drift = rng.normal(size=(3, 64)), rng.normal(size=(2, 64))
    X = centres[y] + ((xy - xy.mean(axis=0)) / 3000) @ drift + 0.8 * rng.normal(size=(150, 64))
    return X / np.linalg.norm(X, axis=1, keepdims=True), y, xy


@pytest.mark.parametrize("method", ["knn1", "logistic", "forest"])
@pytest.mark.parametrize("scheme", ["random", "spatial"])
def test_scores_and_confusion_matrix_equal_scikit_learn_on_the_same_folds(labels, method, scheme):
    X, y, xy = labels
    folds = random_folds(y, 5, random_state=1) if scheme == "random" else spatial_folds(xy, y, 1000, 5, 1)
    model = EmbeddingClassifier(method)
    result = evaluate(model, X, y, folds, scheme)
    np.testing.assert_allclose(result.fold_scores, cross_val_score(model, X, y, cv=folds), rtol=0, atol=1e-12)
    assert result.mean == pytest.approx(cross_val_score(model, X, y, cv=folds).mean(), abs=1e-12)
    if scheme == "random":  # the test sets are a partition, so cross_val_predict applies
        pooled = cross_val_predict(model, X, y, cv=folds)
        np.testing.assert_array_equal(result.confusion, confusion_matrix(y, pooled, labels=[0, 1, 2]))
    np.testing.assert_array_equal(result.confusion, confusion_matrix(result.observed, result.predicted))
    precision, recall, _, _ = precision_recall_fscore_support(result.observed, result.predicted, zero_division=np.nan)
    np.testing.assert_allclose(result.precision, precision)
    np.testing.assert_allclose(result.recall, recall)
    assert result.confusion.sum() == sum(len(test) for _, test in folds)


@pytest.mark.parametrize("block_size", [500.0, 1000.0, 1700.0])
def test_spatial_folds_never_put_neighbouring_blocks_on_both_sides(labels, block_size):
    _, y, xy = labels
    folds = spatial_folds(xy, y, block_size, n_splits=4, random_state=2)
    cells = np.floor(xy / block_size).astype(int)  # blocks computed here independently
    tests = np.concatenate([test for _, test in folds])
    assert len(tests) == len(np.unique(tests))  # no label tested twice
    for train, test in folds:
        # neighbouring = sharing an edge or a corner: both block indices differ by at most 1
        gap = np.abs(cells[train][:, None, :] - cells[test][None, :, :]).max(axis=2)
        assert gap.min() >= 2
        # and so every training label is at least one block side from every test label, along x or y
        distance = np.abs(xy[train][:, None, :] - xy[test][None, :, :]).max(axis=2)
        assert distance.min() >= block_size
        # nothing else is held back: every label outside the test blocks' neighbourhood trains
        assert set(train) == set(np.flatnonzero(gap_to(cells, cells[test]) >= 2))


def gap_to(cells: np.ndarray, test_cells: np.ndarray) -> np.ndarray:
    return np.abs(cells[:, None, :] - test_cells[None, :, :]).max(axis=2).min(axis=1)


def test_random_folds_are_a_stratified_partition(labels):
    _, y, _ = labels
    folds = random_folds(y, 5, random_state=0)
    tests = np.sort(np.concatenate([test for _, test in folds]))
    np.testing.assert_array_equal(tests, np.arange(len(y)))
    for train, test in folds:
        assert not set(train) & set(test)
        assert abs(np.bincount(y[test], minlength=3) / len(test) - np.bincount(y, minlength=3) / len(y)).max() < 0.05


def test_random_folds_inflate_accuracy_where_neighbours_are_near_duplicates():
    # pairs of points 10 m apart with the same vector: random folds test on a twin seen in training
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 8000, size=(80, 2))
    X = rng.normal(size=(80, 64))
    y = rng.integers(0, 2, 80)  # classes unrelated to the vectors: nothing real to learn
    X, y, xy = np.concatenate([X, X]), np.concatenate([y, y]), np.concatenate([xy, xy + 10])
    model = EmbeddingClassifier("knn1")
    naive = evaluate(model, X, y, random_folds(y, 5, random_state=0)).mean
    honest = evaluate(model, X, y, spatial_folds(xy, y, 1000, 5, random_state=0)).mean
    assert naive > 0.7 and honest < 0.65


def test_blocks_and_neighbours_are_defined_on_the_projected_lattice():
    xy = np.array([[0.0, 0.0], [999.9, 0.0], [1000.0, 0.0], [2500.0, 2500.0], [-1.0, -1.0]])
    np.testing.assert_array_equal(spatial_blocks(xy, 1000), [[0, 0], [0, 0], [1, 0], [2, 2], [-1, -1]])
    near = neighbours_of(spatial_blocks(xy, 1000), np.array([[1, 1]]))
    np.testing.assert_array_equal(near, [True, True, True, True, False])  # corners count, two blocks away do not


def test_learning_curve_rises_with_labels(labels):
    X, y, _ = labels
    curve = learning_curve(EmbeddingClassifier("logistic"), X, y, sizes=(1, 3, 10, 30), repeats=4)
    assert curve.labels_per_class == (1, 3, 10, 30)
    assert curve.mean[-1] > curve.mean[0] + 0.1
    assert all(0 <= m <= 1 for m in curve.mean) and all(s >= 0 for s in curve.std)


def test_too_few_labels_or_blocks_are_clear_errors(labels):
    X, y, xy = labels
    with pytest.raises(NoDataError, match="at least 2 labels of the rarest class"):
        random_folds(np.array([0, 0, 0, 1]))
    with pytest.raises(NoDataError, match="spatial blocks"):
        spatial_folds(xy[:5] * 0, y[:5], 1000)
    with pytest.raises(ValueError, match="block size must be positive"):
        spatial_folds(xy, y, 0)


def test_spatial_folds_say_how_many_labels_they_trained_on(labels):
    X, y, xy = labels
    folds = spatial_folds(xy, y, 1000, 5, random_state=0)
    result = evaluate(EmbeddingClassifier("knn1"), X, y, folds, "spatial")
    assert result.train_sizes == tuple(len(train) for train, _ in folds)
    assert all(size + len(test) < len(y) for size, (_, test) in zip(result.train_sizes, folds))  # the buffer
