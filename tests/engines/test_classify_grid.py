"""Streaming classification and regression of a whole AOI equal the one-shot prediction of the same pixels."""

from __future__ import annotations

import numpy as np
import pytest

from aef_widgets import AOI, EmbeddingClassifier, EmbeddingRegressor, classify_grid, sample_source, sample_truth
from aef_widgets.analysis import NO_CLASS
from aef_widgets.engines.workflows import regress_grid

YEAR = 2024


@pytest.fixture(scope="module")
def setting():
    """The sample, an AOI of a few chunks (not aligned to them) and 10 labelled pixels of each true class."""
    source, truth = sample_source(), sample_truth()
    west, south, east, north = source.footprint.lonlat_bounds()
    aoi = AOI.from_bounds(west + 0.2 * (east - west), south + 0.25 * (north - south), east - 0.1 * (east - west),
                          north - 0.3 * (north - south))  # fmt: skip
    field = source.read(None, YEAR)
    labels = truth.labels(YEAR)
    rng = np.random.default_rng(0)
    picks = [rng.choice(np.flatnonzero((labels == c).ravel() & field.mask.ravel()), 10, replace=False)
             for c in range(6)]  # fmt: skip
    picks = np.concatenate(picks)
    X, y = field.values.reshape(-1, 64)[picks], labels.ravel()[picks]
    return source, aoi, X, y


@pytest.mark.parametrize("method", ["knn3", "logistic"])
def test_classify_grid_equals_classifying_the_aoi_at_once(setting, method):
    source, aoi, X, y = setting
    model = EmbeddingClassifier(method).fit(X, y)
    grid = source.grid(aoi)
    assert grid.width > 256 and grid.height > 256  # several chunks
    fractions: list[float] = []
    streamed = classify_grid(source, grid, YEAR, aoi, model, lambda f, m: fractions.append(f), workers=2)
    whole = model.classify(source.read(aoi, YEAR))
    np.testing.assert_array_equal(streamed.labels, whole.labels)
    np.testing.assert_allclose(streamed.confidence, whole.confidence, rtol=1e-5, equal_nan=True)
    np.testing.assert_allclose(streamed.margin, whole.margin, rtol=1e-4, atol=1e-6, equal_nan=True)
    outside = ~aoi.mask(grid)
    assert outside.any() and (streamed.labels[outside] == NO_CLASS).all()
    assert np.isnan(streamed.confidence[outside]).all()
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_the_streamed_map_recovers_the_truth(setting):
    source, aoi, X, y = setting
    grid = source.grid(aoi)
    result = classify_grid(source, grid, YEAR, aoi, EmbeddingClassifier("logistic").fit(X, y))
    truth = sample_truth()
    # the truth on the same grid: the AOI grid is a window of the sample's native 10 m grid
    col, row = ~truth.grid.transform @ (grid.transform.c, grid.transform.f)
    window = truth.labels(YEAR)[round(row) : round(row) + grid.height, round(col) : round(col) + grid.width]
    inside = result.labels >= 0
    assert np.mean(result.labels[inside] == window[inside]) > 0.95


def test_regress_grid_equals_predicting_the_aoi_at_once(setting):
    source, aoi, X, _ = setting
    value = 30 * X[:, 0] + 10 * X[:, 5]
    model = EmbeddingRegressor("ridge").fit(X, value)
    grid = source.grid(aoi)
    streamed = regress_grid(source, grid, YEAR, aoi, model, workers=2)
    np.testing.assert_allclose(streamed, model.predict(source.read(aoi, YEAR)), rtol=1e-5, atol=1e-5, equal_nan=True)
    assert np.isnan(streamed[~aoi.mask(grid)]).all()


def test_an_unfitted_model_is_refused(setting):
    source, aoi, _, _ = setting
    with pytest.raises(RuntimeError, match="fit the classifier"):
        classify_grid(source, source.grid(aoi), YEAR, aoi, EmbeddingClassifier())
