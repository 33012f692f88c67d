"""Trajectories of fields against a reference computed here: each year's coverage-weighted unit mean from shapely
coverage and the real raster's float32 file (``reference`` of test_tables, independent of the code under test,
which reads int8 files), and the changes between years taken with plain Python loops.

Three years are written from the real Wisconsin raster (tests/data/aef-real): 2022 as it is, 2023 with a block of
nodata (-128, the AEF COGs' nodata), 2024 with that block filled with the vectors of another area, so a field inside
the block has no data in 2023 and changed in 2024, and a field outside it never changed.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely

from aef_widgets.engines.zonal_trajectories import zonal_trajectories
from aef_widgets.sources.open import open_source
from tests.conftest import REAL_FLOAT32, REAL_INT8, write_like
from tests.engines.test_tables import reference

BLOCK = (slice(20, 50), slice(30, 70))
ELSEWHERE = (slice(60, 90), slice(50, 90))
YEARS = (2022, 2023, 2024)


def three_years(data: np.ndarray, nodata: float) -> list[np.ndarray]:
    """(bands, rows, cols) arrays of the three years: as is, the block without data, the block moved."""
    gap, moved = data.copy(), data.copy()
    gap[:, BLOCK[0], BLOCK[1]] = nodata
    moved[:, BLOCK[0], BLOCK[1]] = data[:, ELSEWHERE[0], ELSEWHERE[1]]
    return [data, gap, moved]


@pytest.fixture
def source(tmp_path):
    with rasterio.open(REAL_INT8) as ds:
        data = ds.read()
    paths = []
    for year, values in zip(YEARS, three_years(data, -128)):
        path = write_like(tmp_path / f"aef_{year}.tif", REAL_INT8, values)
        with rasterio.open(path, "r+") as ds:
            ds.update_tags(YEAR=str(year))
        paths.append(path)
    return open_source(paths)


def test_changes_from_the_first_year_and_the_last_year_with_data(source):
    with rasterio.open(REAL_FLOAT32) as ds:
        floats, transform = ds.read().astype(np.float64), ds.transform
    x0, y0 = transform.c, transform.f
    inside = shapely.box(x0 + 10 * 33.4, y0 - 10 * 46.6, x0 + 10 * 66.2, y0 - 10 * 23.5)  # in the block
    across = shapely.box(x0 + 10 * 60.3, y0 - 10 * 35.2, x0 + 10 * 80.7, y0 - 10 * 10.4)  # half in it
    outside = shapely.box(x0 + 10 * 5.5, y0 - 10 * 90.2, x0 + 10 * 25.1, y0 - 10 * 60.3)
    fields = gpd.GeoDataFrame({"name": ["inside", "across", "outside"]}, geometry=[inside, across, outside],
                              crs=source.grid(None).crs)  # fmt: skip
    table = zonal_trajectories(source, fields)
    assert list(table["name"]) == [n for n in fields["name"] for _ in YEARS] and list(table["year"]) == [*YEARS] * 3
    years_values = [np.moveaxis(v, 0, -1) for v in three_years(floats, np.nan)]
    for f, polygon in enumerate(fields.geometry):
        means = []
        for values in years_values:
            with np.errstate(invalid="ignore", divide="ignore"):
                pixels, mean, _ = reference(polygon, values, transform)
            means.append(mean if pixels > 0 else None)
        rows = table.iloc[3 * f : 3 * f + 3]
        first = next(m for m in means if m is not None)
        previous = None
        for y, mean in enumerate(means):
            got_first, got_previous = rows["change_from_first"].iloc[y], rows["change_from_previous"].iloc[y]
            if mean is None:
                assert np.isnan(got_first) and np.isnan(got_previous) and rows["pixels"].iloc[y] == 0
                continue
            assert got_first == pytest.approx(1 - mean @ first, abs=1e-5)
            if previous is None:
                assert np.isnan(got_previous)
            else:
                assert got_previous == pytest.approx(1 - mean @ previous, abs=1e-5)
            previous = mean
    changed = table[table["name"] == "inside"]
    # no data in 2023: 2024 is compared with 2022, the block's new vectors far from its old ones
    assert changed["pixels"].iloc[1] == 0 and changed["change_from_previous"].iloc[2] > 0.05
    assert changed["change_from_previous"].iloc[2] == pytest.approx(changed["change_from_first"].iloc[2])
    still = table[table["name"] == "outside"]
    np.testing.assert_allclose(still["change_from_first"], 0.0, atol=1e-6)


def test_years_are_put_in_order_once(source):
    grid = source.grid(None)
    field = gpd.GeoDataFrame(geometry=[shapely.box(*grid.bounds).buffer(-200)], crs=grid.crs)
    table = zonal_trajectories(source, field, [2024, 2022, 2024])
    assert list(table["year"]) == [2022, 2024]
    assert np.isnan(table["change_from_previous"].iloc[0])
    assert table["change_from_first"].iloc[0] == pytest.approx(0, abs=1e-6)
