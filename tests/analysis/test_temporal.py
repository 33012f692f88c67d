"""Trajectories, when-did-it-change and anomaly against plain numpy written out pixel by pixel."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from rasterio.crs import CRS
from scipy.stats import median_abs_deviation

from aef_widgets.analysis.temporal import (
    ChangeYearsBuilder,
    TrajectorySums,
    anomaly,
    change_years,
    pixel_trajectory,
    robust_scale,
)
from aef_widgets.core.errors import NoDataError
from aef_widgets.core.field import EmbeddingField
from aef_widgets.core.grid import Grid

YEARS = (2017, 2018, 2019, 2020, 2021)
GRID = Grid(Affine(10, 0, 500000, 0, -10, 4900000), 7, 5, CRS.from_epsg(32616))


@pytest.fixture
def stack() -> np.ndarray:
    """(years, rows, cols, 64) vectors of varying length (as int8 decoding leaves them), with holes."""
    rng = np.random.default_rng(3)
    v = rng.normal(size=(len(YEARS), *GRID.shape, 64)).astype(np.float32)
    v[:, :, :, :8] += 3  # years alike, so changes are not all the same size
    v *= rng.uniform(0.98, 1.02, size=(*v.shape[:3], 1)).astype(np.float32)
    v[1, 0, 0] = np.nan  # missing in a middle year
    v[0, 1, 1] = np.nan  # missing in the first year
    v[:, 2, 2] = np.nan  # never any data
    v[1:, 3, 3] = np.nan  # only the first year
    return v


def fields(stack: np.ndarray) -> list[EmbeddingField]:
    return [EmbeddingField.from_values(v, GRID, year) for v, year in zip(stack, YEARS)]


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def test_pixel_trajectory_is_the_dot_product_of_unit_vectors(stack):
    v = stack[:, 0, 0].astype(np.float64)  # missing in 2018
    t = pixel_trajectory(v, YEARS, 2019)
    u = unit(v)
    np.testing.assert_allclose(t.to_reference, u @ u[2], rtol=1e-12)
    assert np.isnan(t.to_reference[1]) and t.to_reference[2] == pytest.approx(1.0)
    # year to year: 2019 compares with 2017, the latest year with data; 2018 has none
    expected = [np.nan, np.nan, u[2] @ u[0], u[3] @ u[2], u[4] @ u[3]]
    np.testing.assert_allclose(t.year_to_year, expected, rtol=1e-12)
    assert t.pixels.tolist() == [1, 0, 1, 1, 1] and t.rows()[2]["year"] == 2019
    with pytest.raises(ValueError, match="reference year"):
        pixel_trajectory(v, YEARS, 2030)


def test_aoi_trajectory_is_the_mean_of_per_pixel_dot_products_and_chunks_add_up(stack):
    u = unit(stack.astype(np.float64))
    whole = TrajectorySums(YEARS, 2020).add(fields(stack)[3], fields(stack)).trajectory()
    to_ref = np.einsum("yrck,rck->yrc", u, u[3])
    np.testing.assert_allclose(whole.to_reference, np.nanmean(to_ref, axis=(1, 2)), rtol=1e-6)
    assert whole.pixels.tolist() == np.isfinite(to_ref).sum(axis=(1, 2)).tolist()
    # year to year, pixel by pixel, from the latest earlier year with data
    y2y = np.full(u.shape[:3], np.nan)
    for r, c in np.ndindex(GRID.shape):
        seen = [i for i in range(len(YEARS)) if np.isfinite(u[i, r, c]).all()]
        for a, b in zip(seen[:-1], seen[1:]):
            y2y[b, r, c] = u[b, r, c] @ u[a, r, c]
    assert np.isnan(y2y[0]).all() and np.isnan(whole.year_to_year[0])
    np.testing.assert_allclose(whole.year_to_year[1:], np.nanmean(y2y[1:], axis=(1, 2)), rtol=1e-6)
    # the same from two halves of the AOI
    halves = [stack[:, :, :4], stack[:, :, 4:]]
    sums = TrajectorySums(YEARS, 2020)
    for part, (c0, c1) in zip(halves, [(0, 4), (4, 7)]):
        grid = Grid(GRID.transform @ Affine.translation(c0, 0), c1 - c0, GRID.height, GRID.crs)
        fs = [EmbeddingField.from_values(v, grid, y) for v, y in zip(part, YEARS)]
        sums.merge(TrajectorySums(YEARS, 2020).add(fs[3], fs))
    np.testing.assert_allclose(sums.trajectory().to_reference, whole.to_reference, rtol=1e-6)
    np.testing.assert_allclose(sums.trajectory().year_to_year, whole.year_to_year, rtol=1e-6, equal_nan=True)


def test_when_it_changed_is_the_year_of_the_largest_change_from_the_latest_year_with_data(stack):
    original = stack.copy()
    result = change_years(fields(stack), YEARS)
    np.testing.assert_array_equal(stack, original, strict=True)  # inputs untouched
    u = unit(stack.astype(np.float64))
    for r, c in np.ndindex(GRID.shape):
        seen = [i for i in range(len(YEARS)) if np.isfinite(u[i, r, c]).all()]
        changes = [(1 - u[b, r, c] @ u[a, r, c], YEARS[b]) for a, b in zip(seen[:-1], seen[1:])]
        if not changes:
            assert result.year[r, c] == 0 and np.isnan(result.size[r, c])
            continue
        size, year = max(changes, key=lambda x: x[0])  # the first of equal maxima, as the builder keeps
        assert result.year[r, c] == year and result.size[r, c] == pytest.approx(size, abs=1e-6)
    assert result.year[2, 2] == 0 and result.year[3, 3] == 0


def test_areas_per_year_count_pixels_above_the_threshold():
    builder = ChangeYearsBuilder(YEARS, GRID)
    base = np.zeros((*GRID.shape, 64), np.float32)
    base[..., 0] = 1
    for i, year in enumerate(YEARS):
        v = base.copy()
        if i >= 2:
            v[:, : i - 1, 1] = 1  # columns change, one more each year from 2019 (45 degrees: 1 - cos = 0.29)
        builder.add(EmbeddingField.from_values(v, GRID, year))
    result = builder.result()
    assert result.above(0.2)[0].tolist() == [2019, 2020, 2021, 0, 0, 0, 0]
    assert (result.year[:, 3:] == 2018).all() and np.abs(result.size[:, 3:]).max() < 1e-6  # the first of zeros
    areas = result.areas(0.2)
    assert areas.classes == (2018, 2019, 2020, 2021)
    assert areas.pixels == (0, 5, 5, 5) and areas.hectares == pytest.approx((0, 0.05, 0.05, 0.05))
    assert result.areas(0.3).pixels == (0, 0, 0, 0)
    with pytest.raises(ValueError, match="year order"):
        builder.add(EmbeddingField.from_values(base, GRID, 2022))


def test_anomaly_is_one_minus_the_cosine_to_the_mean_direction_of_the_other_years(stack):
    result = anomaly(fields(stack), YEARS, 2019)
    u = unit(stack.astype(np.float64))
    for r, c in np.ndindex(GRID.shape):
        others = [u[i, r, c] for i in (0, 1, 3, 4) if np.isfinite(u[i, r, c]).all()]
        if len(others) < 2 or not np.isfinite(u[2, r, c]).all():
            assert np.isnan(result[r, c])
            continue
        m = unit(np.mean(others, axis=0))
        assert result[r, c] == pytest.approx(1 - u[2, r, c] @ m, abs=1e-6)
    assert np.isnan(anomaly(fields(stack), YEARS, 2019, min_years=5)).all()


def test_robust_scale_is_the_median_and_the_normal_scaled_mad():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.gamma(2, 0.02, 5000), [np.nan] * 10, rng.uniform(0.5, 1.0, 40)])
    scale = robust_scale(values)
    finite = values[np.isfinite(values)]
    assert scale.median == pytest.approx(np.median(finite))
    assert scale.scale == pytest.approx(median_abs_deviation(finite, scale="normal"), rel=1e-4)
    score = scale.score(values)
    assert np.isnan(score[5000:5010]).all() and np.nanmedian(score) == pytest.approx(0, abs=1e-6)
    # the same landscape with twice the yearly noise scores the same: a threshold means the same everywhere
    np.testing.assert_allclose(robust_scale(2 * values).score(2 * values), score, rtol=1e-5)
    with pytest.raises(NoDataError, match="no pixel"):
        robust_scale(np.full(4, np.nan))
    with pytest.raises(NoDataError, match="same everywhere"):
        robust_scale(np.ones(4))
