"""The widgets on Earth Engine: server-side products drawn as tiles, errors in words, the app keeps working.

Only the network boundary is stubbed (``ee.data`` request functions, see tests/engines/conftest.py); every ``ee``
object the widgets make is real.
"""

from __future__ import annotations

import ee
import ipyleaflet
import numpy as np
import pytest

from aef_widgets.engines import EarthEngineEngine
from aef_widgets.explorer import TAB_TITLES, Explorer
from aef_widgets.sources import EarthEngineSource
from aef_widgets.widgets import JobRunner, make_map
from tests.earthengine_offline import Network, features, map_id, unit_vectors
from tests.widgets.frontend import click, draw, rectangle

RGB_URL = "https://earthengine.googleapis.com/v1/projects/p/maps/rgb/tiles/{z}/{x}/{y}"
SIM_URL = "https://earthengine.googleapis.com/v1/projects/p/maps/sim/tiles/{z}/{x}/{y}"
MATCH_URL = "https://earthengine.googleapis.com/v1/projects/p/maps/match/tiles/{z}/{x}/{y}"
LON, LAT = -88.77, 44.295


@pytest.fixture
def explorer(network: Network) -> Explorer:
    network.answer("getMapId", map_id(RGB_URL))
    source = EarthEngineSource(years=[2023, 2024])
    m = make_map(None, ee_initialize=False, center=(LAT, LON), zoom=14)
    explorer = Explorer(source, map=m, runner=JobRunner.inline())
    explorer.tabs.selected_index = TAB_TITLES.index("Similarity")
    return explorer


def tiles(explorer: Explorer, name: str) -> ipyleaflet.TileLayer:
    layer = next(x for x in explorer.map.layers if x.name == name)
    assert isinstance(layer, ipyleaflet.TileLayer)
    return layer


def test_the_explorer_uses_the_earth_engine_engine_and_one_map_request(explorer, network):
    assert isinstance(explorer.state.engine, EarthEngineEngine)
    assert tiles(explorer, "RGB composite").url == RGB_URL
    assert network.count("getMapId") == 1
    explorer.map.center = (LAT + 0.01, LON)  # panning never asks for tiles again: Leaflet fetches them
    assert network.count("getMapId") == 1


def test_a_click_draws_similarity_tiles_and_the_readout(explorer, network):
    vector = unit_vectors(1)
    network.answer("computeValue", features(vector), {"valid": 1_000_000.0, "above": 250_000.0})
    network.answer("getMapId", map_id(SIM_URL), map_id(MATCH_URL))
    click(explorer.map, LON, LAT)
    probe = explorer.similarity
    assert tiles(explorer, "Similarity").url == SIM_URL
    assert tiles(explorer, "Similarity matches").url == MATCH_URL
    assert probe.product.readout == pytest.approx(float(vector[0] @ vector[0]), abs=1e-6)
    assert "<b>1.00</b>" in probe.readout.value
    assert "25.0 ha (25.0% of valid area" in probe.matches.value
    assert network.count("computeValue") == 2  # one to sample the point, one for the area


@pytest.mark.parametrize(
    "error, words",
    [
        (ee.EEException("Earth Engine client library not initialized. Run `ee.Initialize()`"), "sign"),
        (ee.EEException("Quota exceeded: too many concurrent aggregations."), "quota"),
        (ee.EEException("Computation timed out."), "took too long"),
        (ee.EEException("User memory limit exceeded."), "too large"),
    ],
)
def test_earth_engine_errors_show_in_words_and_the_app_keeps_working(explorer, network, error, words):
    network.answer("computeValue", error)
    click(explorer.map, LON, LAT)
    status = explorer.similarity.status.value
    assert words in status.lower() and "Traceback" not in status
    # the next click works
    network.answer("computeValue", features(unit_vectors(1, seed=2)), {"valid": 1.0e6, "above": 0.0})
    network.answer("getMapId", map_id(SIM_URL), map_id(MATCH_URL))
    explorer.similarity.clear.click()
    click(explorer.map, LON, LAT)
    assert tiles(explorer, "Similarity").url == SIM_URL and "<b>1.00</b>" in explorer.similarity.readout.value


def test_clusters_of_a_drawn_aoi_on_earth_engine(explorer, network):
    west, south, east, north = LON - 0.01, LAT - 0.005, LON + 0.01, LAT + 0.005
    draw(explorer.aoi.draw_control, rectangle(west, south, east, north))
    groups = {"groups": [{"class": c, "sum": 1000.0 * (c + 1), "count": 10 * (c + 1)} for c in range(3)]}
    network.answer("computeValue", groups)
    network.answer("getMapId", map_id(SIM_URL))
    explorer.clusters.k.value = 3
    explorer.clusters.run.click()
    product = explorer.clusters.value
    assert product.n_clusters == 3 and tiles(explorer, "Clusters").url == SIM_URL
    np.testing.assert_allclose(product.areas.hectares, [0.1, 0.2, 0.3])
    assert explorer.clusters.legend.value.count("Cluster ") == 3
    assert "in the AOI at 10 m" in explorer.clusters.status.value


def test_year_change_asks_for_each_layer_once(explorer, network):
    network.answer("getMapId", map_id(SIM_URL))
    explorer.year.dropdown.value = 2023
    assert tiles(explorer, "RGB composite").url == SIM_URL
    assert network.count("getMapId") == 2


def test_a_batch_export_shows_its_progress_until_it_finishes(explorer, network):
    west, south, east, north = LON - 0.01, LAT - 0.005, LON + 0.01, LAT + 0.005
    draw(explorer.aoi.draw_control, rectangle(west, south, east, north))
    network.answer("computeValue", {"groups": [{"class": 0, "sum": 1.0, "count": 1}]})
    network.answer("getMapId", map_id(SIM_URL))
    panel = explorer.clusters
    panel.k.value = 2
    panel.run.click()
    assert panel.drive_button.layout.display == ""
    name = "projects/test-project/operations/XYZ"
    network.answer("exportImage", {"name": name})
    network.answer(
        "getOperation",
        {"name": name, "metadata": {"state": "RUNNING", "progress": 0.5}},
        {"name": name, "done": True, "metadata": {"state": "SUCCEEDED", "destinationUris": ["https://drive/x"]}},
    )
    seen = []
    panel.progress.observe(lambda change: seen.append(change["new"]), names="value")
    panel.poll_seconds = 0
    panel.drive_button.click()
    assert seen[-2:] == [0.5, 1.0]
    assert "finished: https://drive/x" in panel.status.value
    assert network.count("getOperation") == 2
