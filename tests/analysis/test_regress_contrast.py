"""Regression against scikit-learn on the same folds; negative examples; where to label next."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import r2_score
from sklearn.model_selection import cross_val_predict, cross_val_score

from aef_widgets import EmbeddingRegressor, contrast_score, evaluate_regression, most_uncertain, random_folds
from aef_widgets.analysis import contrast_weights
from aef_widgets.core.errors import NoDataError
from aef_widgets.sources import open_source


@pytest.fixture(scope="module")
def points() -> tuple[np.ndarray, np.ndarray]:
    """120 unit vectors and a value that depends on two of their directions (like canopy height), plus noise."""
    rng = np.random.default_rng(8)
    X = rng.normal(size=(120, 64))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    value = 20 + 40 * X[:, 3] - 25 * X[:, 10] + rng.normal(0, 0.5, 120)
    return X, value


@pytest.mark.parametrize("method", ["forest", "ridge", "knn"])
def test_regression_scores_equal_scikit_learn_on_the_same_folds(points, method):
    X, value = points
    folds = random_folds(value, 5, random_state=3, stratified=False)
    model = EmbeddingRegressor(method)
    result = evaluate_regression(model, X, value, folds, "random")
    np.testing.assert_allclose(result.fold_r2, cross_val_score(model, X, value, cv=folds, scoring="r2"), atol=1e-12)
    pooled = cross_val_predict(model, X, value, cv=folds)
    order = np.concatenate([test for _, test in folds])
    np.testing.assert_allclose(result.predicted, pooled[order], atol=1e-12)
    np.testing.assert_array_equal(result.observed, value[order])
    assert result.r2 == pytest.approx(r2_score(value, pooled), abs=1e-12)
    assert result.rmse == pytest.approx(np.sqrt(np.mean((value - pooled) ** 2)), abs=1e-12)


def test_ridge_recovers_a_linear_value_and_predicts_fields_without_inventing_data(points, int8_with_hole):
    X, value = points
    result = evaluate_regression(EmbeddingRegressor("ridge"), X, value, random_folds(value, 5, stratified=False))
    assert result.r2 > 0.95 and result.rmse < 1.5
    path, hole = int8_with_hole
    field = open_source(path).read(None, 2024)
    model = EmbeddingRegressor("ridge", chunk_pixels=999).fit(X, value)
    mapped = model.predict(field)
    assert np.isnan(mapped[hole]).all() and np.isfinite(mapped[~hole]).all()
    np.testing.assert_allclose(mapped[field.mask], model.estimator_.predict(field.valid_vectors()), rtol=1e-5)


def test_regression_needs_values_and_enough_points(points):
    X, value = points
    with pytest.raises(ValueError, match="finite value"):
        EmbeddingRegressor().fit(X[:3], [1.0, np.nan, 2.0])
    with pytest.raises(NoDataError, match="at least 5 points"):
        EmbeddingRegressor("knn").fit(X[:4], value[:4])


def test_contrast_is_mean_cosine_to_positives_minus_mean_cosine_to_negatives(int8_with_hole):
    path, hole = int8_with_hole
    field = open_source(path).read(None, 2024)
    vectors = field.valid_vectors().astype(np.float64)
    rng = np.random.default_rng(2)
    pos, neg = vectors[rng.choice(len(vectors), 3)] * 1.01, vectors[rng.choice(len(vectors), 2)] * 0.99
    score = contrast_score(field, pos, neg)
    assert np.isnan(score[hole]).all()

    def cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a @ b / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b))

    # the definition, one reference at a time
    expected = np.mean([cos(vectors, p) for p in pos], axis=0) - np.mean([cos(vectors, n) for n in neg], axis=0)
    np.testing.assert_allclose(score[field.mask], expected, atol=2e-6)
    np.testing.assert_allclose(contrast_score(vectors, pos, neg), expected, atol=1e-12)
    # without negatives: the mean of per-reference cosines (not the cosine to a renormalised centroid)
    only = np.mean([cos(vectors, p) for p in pos], axis=0)
    np.testing.assert_allclose(contrast_score(vectors, pos), only, atol=1e-12)
    assert contrast_score(pos[0], pos[:1]) == pytest.approx(1.0)
    assert contrast_score(pos[0], pos[:1], pos[:1]) == pytest.approx(0.0)
    np.testing.assert_allclose(contrast_weights(pos, neg) @ (vectors[0] / np.linalg.norm(vectors[0])), expected[0])


def test_contrast_needs_positives_with_data():
    with pytest.raises(NoDataError, match="at least one positive"):
        contrast_score(np.ones((2, 64)), np.empty((0, 64)), np.ones((1, 64)))
    with pytest.raises(NoDataError, match="1 negative references have no embedding"):
        contrast_score(np.ones((2, 64)), np.ones((1, 64)), np.full((1, 64), np.nan))
    assert np.isnan(contrast_score(np.full((1, 64), np.nan), np.ones((1, 64)))).all()


def test_most_uncertain_are_the_lowest_margins_and_never_nodata():
    rng = np.random.default_rng(4)
    margin = rng.uniform(size=(50, 60)).astype(np.float32)
    margin[:5] = np.nan
    rows, cols = most_uncertain(margin, 20)
    flat = np.where(np.isnan(margin), np.inf, margin).ravel()
    expected = np.sort(flat)[:20]  # reference: a full sort
    np.testing.assert_array_equal(margin[rows, cols], expected)
    assert (rows >= 5).all()


def test_most_uncertain_spreads_suggestions_and_breaks_ties_reproducibly():
    margin = np.full((40, 40), 0.5, dtype=np.float32)
    margin[10:13, 10:13] = 0.0  # one ambiguous patch
    rows, cols = most_uncertain(margin, 5, min_distance_px=8)
    assert len(rows) == 5 and margin[rows[0], cols[0]] == 0.0
    points = np.stack([rows, cols], axis=1).astype(float)
    gaps = np.linalg.norm(points[:, None] - points[None], axis=2) + np.eye(5) * 99
    assert gaps.min() >= 8
    np.testing.assert_array_equal(most_uncertain(margin, 5, 8)[0], rows)
    assert len(most_uncertain(np.full((3, 3), np.nan), 5)[0]) == 0
