"""Coverage fractions and weighted sums of the zonal module on a tiny grid computed by hand."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from affine import Affine
from rasterio.crs import CRS

from aef_widgets.analysis import zonal
from aef_widgets.core.field import EmbeddingField
from aef_widgets.core.grid import Grid

GRID = Grid(Affine(10, 0, 1000, 0, -10, 2000), 4, 3, CRS.from_epsg(32616))  # 4 x 3 px of 10 m


def test_coverage_fractions_are_the_areas_of_the_pixels_inside_by_hand() -> None:
    # x 1005..1025 (half of col 0, all of col 1, half of col 2), y 1985..1995 (half of row 0, half of row 1)
    polygon = shapely.box(1005, 1985, 1025, 1995)
    tiny = shapely.box(1031, 1971, 1033, 1974)  # 2 x 3 m inside pixel (row 2, col 3)
    cover = zonal.coverage(np.array([polygon, tiny]), GRID)
    got = {(int(p), int(c)): f for p, c, f in zip(cover.polygon, cover.cell, cover.fraction)}
    expected = {(0, 0): 0.25, (0, 1): 0.5, (0, 2): 0.25, (0, 4): 0.25, (0, 5): 0.5, (0, 6): 0.25, (1, 11): 0.06}
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-8)  # exactextract: exact to about 1e-9 here


def test_weighted_sums_skip_no_data_and_use_unit_vectors_in_blocks(monkeypatch) -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=(3, 4, 64)).astype(np.float32) * 3  # not unit length
    values[0, 1] = np.nan  # no data under the polygon
    field = EmbeddingField.from_values(values, GRID, 2024)
    cover = zonal.coverage(np.array([shapely.box(1005, 1985, 1025, 1995)]), GRID)
    monkeypatch.setattr(zonal, "BLOCK_PIXELS", 2)  # several blocks of pixels, as a large chunk has
    weights, sums = zonal.weighted_sums(cover, field, 1)
    unit = values.reshape(-1, 64).astype(np.float64)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    fractions = {0: 0.25, 2: 0.25, 4: 0.25, 5: 0.5, 6: 0.25}  # cell 1 (half covered) has no data
    assert weights[0] == pytest.approx(1.5)
    np.testing.assert_allclose(sums[0], sum(f * unit[c] for c, f in fractions.items()), atol=1e-12)
