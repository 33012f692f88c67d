"""The "Search wider" section on other engines: Earth Engine (real ``ee`` objects, only ``ee.data``'s request functions
stubbed, as in tests/engines/conftest.py) and a Dask cluster of two worker processes given to the explorer's state
as its executor.

The Earth Engine request is read back as a graph (``Collection.limit`` is both ``sort`` and ``limit``, as in
tests/engines/test_earthengine_region_search.py); the Dask search is checked against the threaded one, and its
chunks against the cluster's task stream.
"""

from __future__ import annotations

import numpy as np
import pytest

from aef_widgets.analysis.contrast import contrast_weights
from aef_widgets.engines.region_search import find_similar
from aef_widgets.explorer import TAB_TITLES, Explorer
from aef_widgets.sources import EarthEngineSource
from aef_widgets.sources.sample import sample_source
from aef_widgets.widgets import ExplorerState, JobRunner, SimilarityProbe, make_map
from tests.dask_cluster import dask_client
from tests.earthengine_offline import Network, calls, const, features, graph, map_id, unit_vectors
from tests.widgets.frontend import click, send_custom, send_state
from tests.widgets.test_search_wider import shown_matches, view_times

LON, LAT = -88.77, 44.295
URL = "https://earthengine.googleapis.com/v1/projects/p/maps/{name}/tiles/{{z}}/{{x}}/{{y}}"


def points_answer(lonlat: list[tuple[float, float]], scores: list[float]) -> dict:
    """What ``getInfo`` of a sampled FeatureCollection returns: points with their ``score``."""
    rows = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(p)}, "properties": {"score": s}}
        for p, s in zip(lonlat, scores)
    ]
    return {"type": "FeatureCollection", "features": rows}


def test_on_earth_engine_the_search_is_one_server_side_request(network: Network, tmp_path):
    network.answer("getMapId", map_id(URL.format(name="rgb")))
    m = make_map(None, ee_initialize=False, center=(LAT, LON), zoom=14)
    explorer = Explorer(EarthEngineSource(years=[2023, 2024]), map=m, runner=JobRunner.inline(), export_dir=tmp_path)
    explorer.tabs.selected_index = TAB_TITLES.index("Similarity")
    vector = unit_vectors(1)
    network.answer("computeValue", features(vector), {"valid": 1_000_000.0, "above": 250_000.0})
    network.answer("getMapId", map_id(URL.format(name="sim")), map_id(URL.format(name="match")))
    click(m, LON, LAT)
    wider = explorer.similarity.wider
    before = network.count()
    send_state(wider.fold, {"selected_index": 0})
    assert network.count() == before  # the plan is arithmetic: no request
    assert "on Earth Engine" in wider.plan.value and "one request" in wider.plan.value
    assert wider.exact.layout.display == "none"  # the server scores every pixel: no "exact" choice to offer
    found = [(-88.775, 44.295), (-88.772, 44.296), (-88.770, 44.297)]
    network.answer("computeValue", features(vector), points_answer(found, [0.97, 0.93, 0.9]))
    values = network.count("computeValue")
    send_custom(wider.start, {"event": "click"})
    assert network.count("computeValue") == values + 2  # the reference's vector, then the search: one request
    assert shown_matches(explorer.similarity) == (found, [0.97, 0.93, 0.9])
    assert wider.rows.options[0][0].startswith("1. score 0.970 at -88.77500, 44.29500")
    assert "Earth Engine search" in wider.status.value
    g = graph(network.last("computeValue"))
    count, order = calls(g, "Collection.limit")  # .limit(top) of .sort("score", descending)
    assert const(count["limit"]) == 100 and const(order["key"]) == "score"
    # the score is unit(x) . w with w the contrast weights of the clicked reference (no negatives)
    constants = [const(c["value"]) for c in calls(g, "Image.constant") if "constantValue" in c["value"]]
    weights = [w for w in constants if isinstance(w, list)]
    assert weights
    for w in weights:
        np.testing.assert_allclose(w, contrast_weights(vector, []), rtol=1e-6)
    # the region searched is the view times 4
    region = view_times(explorer.similarity.current_view(), 4)
    ring = const(calls(g, "GeometryConstructors.Polygon")[0]["coordinates"])[0]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    assert (min(lons), min(lats), max(lons), max(lats)) == pytest.approx(region.bounds, abs=1e-9)
    explorer.close()


# distributed leaves a socket it probed for a free port to the garbage collector, which may close it during this test
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_with_a_dask_executor_the_chunks_run_on_the_cluster(tmp_path):
    distributed = pytest.importorskip("distributed", reason="Dask is part of the test extra; install .[test]")
    source = sample_source()
    with dask_client() as client:
        state = ExplorerState(source, year=2024, executor=client.get_executor())
        m = make_map(source)
        probe = SimilarityProbe(state, map=m, runner=JobRunner.inline(), export_dir=tmp_path)
        click(m, *source.footprint.center_lonlat)
        send_state(probe.wider.fold, {"selected_index": 0})
        assert "on your executor (2 threads)" in probe.wider.plan.value
        with distributed.get_task_stream(client) as stream:
            send_custom(probe.wider.start, {"event": "click"})
        assert len(stream.data) >= 4  # the coarse chunk and the 10 m chunks ran in the workers' processes
        expected = find_similar(source, view_times(probe.current_view(), 4), 2024, state.probe_points, top=100)
        assert shown_matches(probe)[1] == expected["score"].tolist()
        probe.close()


def test_on_the_release_a_typed_box_across_two_zones_and_more_files_than_a_read_may_open(gcs_release, tmp_path):
    """The miniature release of ``tests.release_data`` on loopback (files in UTM 16N and 17N, the zones meeting at
    84 W), opened with a limit of one file a read: the box spans two."""
    source = gcs_release.open(max_files=1)
    m = make_map(source, center=(44.0, -84.0), zoom=13)
    probe = SimilarityProbe(ExplorerState(source, year=2024), map=m, runner=JobRunner.inline(), export_dir=tmp_path)
    click(m, -83.96, 44.0)
    wider = probe.wider
    send_state(wider.fold, {"selected_index": 0})
    send_state(wider.region, {"index": [v for _, v in wider.region.options].index("box")})
    box = (-84.05, 43.98, -83.95, 44.02)
    send_state(wider.box, {"value": ", ".join(map(str, box))})
    assert "km²" in wider.plan.value and not wider.start.disabled
    assert wider.exact.layout.display == ""  # offered on files, where the default search prunes
    send_state(wider.exact, {"value": True})
    send_custom(wider.start, {"event": "click"})
    expected = find_similar(gcs_release.open(), box, 2024, [(-83.96, 44.0)], top=100, exact=True)
    points, scores = shown_matches(probe)
    assert scores == expected["score"].tolist() and points == [(p.x, p.y) for p in expected.geometry]
    lon = np.array([p[0] for p in points])
    assert (lon < -84).any() and (lon > -84).any()  # matches in both files: they repeat real vectors
    probe.close()
