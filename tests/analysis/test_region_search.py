"""The math of the region search: the score, the top list and its tie order, the cells an overview holds, and one
best point per neighbourhood; each against an independent computation."""

from __future__ import annotations

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from aef_widgets.analysis.contrast import contrast_score, contrast_weights
from aef_widgets.analysis.region_search import (
    EARTH_RADIUS_M,
    TopPixels,
    best,
    cell_scores,
    chunk_best,
    neighbourhood_pixels,
    suppress,
    unit_scores,
)
from aef_widgets.core.field import EmbeddingField
from aef_widgets.core.grid import Grid
from aef_widgets.core.quantization import NODATA_INT8, dequantize
from aef_widgets.data.cog import overview_levels
from tests.release_data import tile_codes


def field_of(codes: np.ndarray) -> EmbeddingField:
    values = dequantize(codes)
    mask = codes[..., 0] != NODATA_INT8
    grid = Grid(Affine(10, 0, 500_000, 0, -10, 4_880_000), codes.shape[1], codes.shape[0], CRS.from_epsg(32616))
    return EmbeddingField(values=values, mask=mask, grid=grid)


def test_scores_are_contrast_score_and_equal_vectors_score_equal() -> None:
    codes = tile_codes(200, 1)  # real vectors repeated: many equal pairs, at every offset within a chunk
    codes[5:9, 5:9] = NODATA_INT8
    field = field_of(codes)
    rng = np.random.default_rng(0)
    pos, neg = rng.normal(size=(2, 64)), rng.normal(size=(1, 64))
    scores = unit_scores(field, contrast_weights(pos, neg))
    np.testing.assert_allclose(scores, contrast_score(field, pos, neg), atol=1e-6, equal_nan=True)
    assert np.isnan(scores[5:9, 5:9]).all() and np.isfinite(scores[field.mask]).all()
    flat, keys = scores.ravel(), codes.reshape(-1, 64)
    _, group = np.unique(keys, axis=0, return_inverse=True)
    for g in np.unique(group.ravel())[:200]:  # every pixel of a group of equal vectors has the same score
        members = flat[group.ravel() == g]
        assert np.all(members == members[0]) or np.isnan(members).all()


def test_the_best_are_by_score_then_position_ties_at_the_edge_included() -> None:
    scores = np.array([0.5, 0.9, np.nan, 0.9, 0.7, 0.9, 0.1], dtype=np.float32)
    positions = np.array([10, 7, 3, 2, 1, 5, 0])
    kept, where = best(scores, positions, 3)
    assert where.tolist() == [2, 5, 7] and kept.tolist() == [np.float32(0.9)] * 3
    assert best(scores, positions, 10)[1].tolist() == [2, 5, 7, 1, 10, 0]  # NaN never kept
    top = TopPixels(2, width=100)
    top.offer(np.array([0.3, 0.8], dtype=np.float32), np.array([4, 9]))
    assert top.threshold == np.float32(0.3)
    top.offer(np.array([0.8], dtype=np.float32), np.array([1]))
    assert top.positions.tolist() == [1, 9] and top.threshold == np.float32(0.8)


def test_a_chunks_best_carry_their_place_on_the_whole_grid() -> None:
    rng = np.random.default_rng(1)
    scores = rng.random((30, 40)).astype(np.float32)
    scores[0, 0] = np.nan
    kept, positions = chunk_best(scores, row_off=100, col_off=200, width=1000, size=5)
    order = np.argsort(-np.nan_to_num(scores.ravel(), nan=-1))[:5]
    rows, cols = np.divmod(order, 40)
    assert positions.tolist() == ((rows + 100) * 1000 + cols + 200).tolist()
    np.testing.assert_array_equal(kept, scores.ravel()[order])


def test_cell_scores_are_the_scores_of_the_overview_the_release_writer_makes() -> None:
    codes = tile_codes(128, 2)
    codes[:8, :8] = NODATA_INT8  # a whole cell without data
    codes[8:12, 16:20] = NODATA_INT8  # part of one
    weights = contrast_weights(np.random.default_rng(3).normal(size=(1, 64)))
    level8 = overview_levels(codes, min_size=1)[2]  # factors 2, 4, 8
    expected = unit_scores(field_of(level8), weights)
    cells = cell_scores(field_of(codes), weights, 8, (0, 0))
    assert cells.shape == (16, 16) and np.isnan(cells[0, 0]) and np.isnan(expected[0, 0])
    np.testing.assert_allclose(cells, expected, atol=0.01, equal_nan=True)  # the overview is re-quantised to int8
    # a field starting 3 rows and 5 columns into its first cell: the same cells where they are whole
    shifted = cell_scores(field_of(codes[5:, 3:]), weights, 8, (5, 3))
    np.testing.assert_allclose(shifted[1:, 1:], cells[1:, 1:], atol=1e-5)


def test_one_best_point_per_neighbourhood() -> None:
    lat0 = 44.0
    metres_per_deg_lat = np.radians(1) * EARTH_RADIUS_M
    # ranked points along a meridian, 0, 30, 70, 100 and 160 m north of the first
    north = np.array([0, 30, 70, 100, 160])
    lat, lon = lat0 + north / metres_per_deg_lat, np.full(5, -88.0)
    assert suppress(lon, lat, 10, 50).tolist() == [0, 2, 4]  # 30 m from 0, 100 m is 30 m from 70
    assert suppress(lon, lat, 2, 50).tolist() == [0, 2]
    assert suppress(lon, lat, 3, 0).tolist() == [0, 1, 2]
    assert neighbourhood_pixels(0, 10) == 3 and neighbourhood_pixels(50, 10) == int(np.pi * 36)
