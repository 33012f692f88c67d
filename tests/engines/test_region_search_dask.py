"""find_similar on a Dask cluster of two worker processes: the workers read and score the chunks themselves (the
task closures pickle with the source), and the answer equals the threaded one, exact and coarse-to-fine."""

from __future__ import annotations

import pytest

from aef_widgets.core.aoi import AOI
from aef_widgets.engines.region_search import find_similar
from aef_widgets.sources.sample import sample_source
from tests.dask_cluster import dask_client

distributed = pytest.importorskip("distributed", reason="Dask is part of the test extra; install .[test]")


# distributed leaves a socket it probed for a free port to the garbage collector, which may close it during this test
# (it did, after another module's cluster in the same worker), as the other Dask tests say
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_search_runs_on_dask_workers_with_the_threaded_answer() -> None:
    source = sample_source()
    west, south, east, north = source.footprint.lonlat_bounds()
    region = AOI.from_bounds(west + 0.01, south + 0.01, east - 0.02, north - 0.01)
    positive = source.sample([((west + east) / 2, (south + north) / 2)], 2024)
    with dask_client() as client:
        for exact in (True, False):
            here = find_similar(source, region, 2024, positive, top=30, exact=exact)
            there = find_similar(source, region, 2024, positive, top=30, exact=exact, executor=client.get_executor())
            assert there["score"].tolist() == here["score"].tolist()
            assert there.geometry.geom_equals(here.geometry).all()
