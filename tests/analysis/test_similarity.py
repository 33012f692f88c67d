"""Similarity and change against plain numpy on the real raster."""

import numpy as np
import pytest

from aef_widgets.analysis import above, angle_degrees, change, cosine, similarity
from aef_widgets.core.errors import NoDataError
from aef_widgets.core.field import EmbeddingField
from aef_widgets.sources import open_source


@pytest.fixture
def field(real_int8):
    return open_source(real_int8).read(None, 2024)


@pytest.fixture
def unit_values(real_values):
    """The real vectors scaled to unit length: what AEF vectors are before int8 rounding moves their length."""
    return real_values / np.linalg.norm(real_values, axis=2, keepdims=True)


def test_similarity_is_the_dot_product_of_unit_vectors(field, real_values, unit_values):
    ref = real_values[30, 40]
    expected = unit_values @ unit_values[30, 40]
    np.testing.assert_allclose(similarity(field, ref), expected, atol=1e-5)
    assert similarity(field, ref)[30, 40] == pytest.approx(1.0, abs=1e-6)  # a pixel and itself
    # the raw dot product differs by the int8 rounding of the lengths, up to about 1.5%
    assert np.abs(similarity(field, ref) - real_values @ ref).max() < 0.02


def test_several_references_average_their_similarities(field, real_values, unit_values):
    points = [(3, 4), (50, 60), (90, 10)]
    refs = np.stack([real_values[r, c] for r, c in points])
    per_reference = np.mean([unit_values @ unit_values[r, c] for r, c in points], axis=0)
    np.testing.assert_allclose(similarity(field, refs), per_reference, atol=1e-5)


def test_references_without_data_are_ignored_or_refused(field, real_values):
    nan = np.full(64, np.nan)
    np.testing.assert_allclose(
        similarity(field, np.stack([real_values[1, 1], nan])), similarity(field, real_values[1, 1]), atol=0
    )
    with pytest.raises(NoDataError, match="no reference has data"):
        similarity(field, nan)


def test_nodata_never_leaks_into_similarity_or_change(int8_with_hole, real_values):
    path, hole = int8_with_hole
    field = open_source(path).read(None, 2024)
    sim = similarity(field, real_values[0, 0])
    assert np.isnan(sim[hole]).all() and np.isfinite(sim[~hole]).all()
    assert not above(sim, -1.0)[hole].any()
    other = open_source(path).read(None, 2024)
    assert np.isnan(change(field, other)[hole]).all() and np.isnan(cosine(field, other)[hole]).all()


def test_change_is_the_per_pixel_dot_product_of_unit_vectors(field, real_values, unit_values):
    rng = np.random.default_rng(0)
    order = rng.permutation(96 * 96)
    shuffled = real_values.reshape(-1, 64)[order].reshape(96, 96, 64)
    other = EmbeddingField.from_values(shuffled, field.grid, 2025)
    expected = (unit_values * unit_values.reshape(-1, 64)[order].reshape(96, 96, 64)).sum(axis=2)
    np.testing.assert_allclose(cosine(field, other), expected, atol=1e-5)
    np.testing.assert_allclose(change(field, other), 1 - expected, atol=1e-5)
    np.testing.assert_allclose(cosine(field, field), 1, atol=1e-6)
    np.testing.assert_allclose(change(field, field), 0, atol=1e-6)
    np.testing.assert_allclose(angle_degrees(np.array([1.0, 0.0, -1.0, np.nan])), [0, 90, 180, np.nan])


def test_change_refuses_different_grids(field, real_int8):
    coarse = open_source(real_int8).read(None, 2024, resolution=20)
    with pytest.raises(ValueError, match="same grid"):
        change(field, coarse)
