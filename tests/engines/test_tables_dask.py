"""Zonal embeddings on a Dask cluster of two worker processes: the workers read the chunks and measure their
polygons themselves, and the table equals the one computed in this process's threads."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from aef_widgets.core.bands import BAND_NAMES
from aef_widgets.engines.tables import zonal_embeddings
from aef_widgets.sources.sample import sample_source
from tests.dask_cluster import dask_client

distributed = pytest.importorskip("distributed", reason="Dask is part of the test extra; install .[test]")


# distributed leaves a socket it probed for a free port to the garbage collector, which may close it during this test
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_zonal_embeddings_on_dask_equal_the_threaded_table() -> None:
    source = sample_source()
    left, bottom, right, top = source.grid().bounds
    rng = np.random.default_rng(11)
    centres = shapely.points(rng.uniform(left, right, 60), rng.uniform(bottom, top, 60))
    fields = gpd.GeoDataFrame({"id": range(60)}, geometry=shapely.buffer(centres, rng.uniform(5, 700, 60)),
                              crs=source.grid().crs)  # fmt: skip
    years = source.years[-2:]
    threaded = zonal_embeddings(source, fields, years)
    with dask_client() as client:
        on_dask = zonal_embeddings(source, fields, years, executor=client.get_executor())
    columns = ["pixels", "coverage", *BAND_NAMES, "spread"]
    np.testing.assert_array_equal(on_dask[columns].to_numpy(), threaded[columns].to_numpy())
    assert list(on_dask["id"]) == list(threaded["id"]) and (threaded["pixels"] > 0).all()
