"""Widgets around a plain ipyleaflet Map from ``make_map``, fed by the real AEF raster; work inline or by hand."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from aef_widgets.sources import open_source
from aef_widgets.widgets import ExplorerState, JobRunner, make_map
from tests.conftest import REAL_INT8, write_like
from tests.release_fixtures import (  # noqa: F401
    _close_caches,
    gcs_release,
    real_files,
    real_release,
    real_roots,
    release_roots,
    release_tiles,
)

#: The planted change of the two-year source: a block whose 2024 vectors come from elsewhere.
CHANGED_ROWS, CHANGED_COLS = slice(20, 50), slice(30, 70)


@pytest.fixture
def real_source():
    return open_source(REAL_INT8)


@pytest.fixture
def two_year_source(tmp_path):
    """2023 = the real raster; 2024 = the same except one block, filled with vectors of a distant area."""
    with rasterio.open(REAL_INT8) as ds:
        data = ds.read()
    before = write_like(tmp_path / "aef_2023.tif", REAL_INT8, data)
    after_data = data.copy()
    after_data[:, CHANGED_ROWS, CHANGED_COLS] = data[:, 60:90, 50:90]
    after = write_like(tmp_path / "aef_2024.tif", REAL_INT8, after_data)
    with rasterio.open(before, "r+") as a, rasterio.open(after, "r+") as b:
        a.update_tags(YEAR="2023")
        b.update_tags(YEAR="2024")
    return open_source([before, after])


@pytest.fixture
def planted_change() -> np.ndarray:
    truth = np.zeros((96, 96), dtype=bool)
    truth[CHANGED_ROWS, CHANGED_COLS] = True
    return truth


@pytest.fixture
def runner():
    return JobRunner.inline()


@pytest.fixture
def state(real_source):
    return ExplorerState(real_source)


@pytest.fixture
def fresh_map(real_source):
    return make_map(real_source)
