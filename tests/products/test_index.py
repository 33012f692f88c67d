"""The index from embeddings (``products/index.py`` and ``widgets/index_panel.py``): the issue-19 measure's product.

Values are checked against numpy on the bundled sample read straight from its int8 COG with rasterio and the
release's published dequantization (``v = sign(q) (q / 127.5)²``, -128 = nodata, as the AEF dataset's description
on the Earth Engine catalog states), never through the package's readers; the panel is driven with the messages
the frontend sends; the Earth Engine graph is built offline from the real algorithm signatures.
"""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.windows import Window

from aef_widgets.core.aoi import AOI
from aef_widgets.core.errors import AEFError
from aef_widgets.engines.base import Tiles
from aef_widgets.engines.context import LocalContext
from aef_widgets.explorer import TAB_TITLES, Explorer
from aef_widgets.products.index import INDEX, ee_image, index_product, index_values
from aef_widgets.sources.sample import sample_source
from aef_widgets.widgets import ExplorerState, JobRunner, make_map
from aef_widgets.widgets.flow import Flow
from aef_widgets.widgets.index_panel import IndexPanel
from aef_widgets.widgets.map_view import view_of
from tests.earthengine_offline import calls, const, graph, map_id, only_call
from tests.widgets.frontend import click

YEAR = 2024
#: Pixels (row, col) of the sample used as "low" and "high", and a window of it (row0, col0, rows, cols).
LOW, HIGH = (300, 200), (700, 800)
WINDOW = (256, 128, 192, 160)


@pytest.fixture(scope="module")
def source():
    return sample_source()


def reference_field(source, window=WINDOW) -> np.ndarray:
    """(rows, cols, 64) float64 of the sample's file, dequantized here; NaN where the file says nodata."""
    row0, col0, rows, cols = window
    with rasterio.open(source.files[YEAR][0].path) as ds:
        q = ds.read(window=Window(col0, row0, cols, rows)).astype(np.float64)
    values = np.sign(q) * (q / 127.5) ** 2
    values[:, (q == -128).any(axis=0)] = np.nan
    return np.moveaxis(values, 0, -1)


def lonlat(source, row: float, col: float) -> tuple[float, float]:
    """The lon/lat of a point of the sample's grid (pixel centres at +0.5)."""
    grid = source.grid(None)
    x, y = grid.transform @ (col, row)
    return Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True).transform(x, y)


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def test_values_equal_numpy_on_the_sample(source):
    weights = np.random.default_rng(7).normal(size=64)
    row0, col0, rows, cols = WINDOW
    west, north = lonlat(source, row0, col0)
    east, south = lonlat(source, row0 + rows, col0 + cols)
    grid = source.grid(AOI.from_bounds(west, south, east, north))
    field = source.read_window(grid, YEAR)
    # the grid the package chose for these bounds, located in the file by its transform
    col, row = ~source.grid(None).transform @ (grid.transform.c, grid.transform.f)
    expected = reference_field(source, (round(row), round(col), grid.height, grid.width)) @ unit(weights)
    got = index_values(field, unit(weights))
    assert got.shape == expected.shape
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got[~np.isnan(got)], expected[~np.isnan(expected)], atol=2e-6)


def test_the_area_above_a_threshold_counts_the_pixels_numpy_counts(source):
    weights = unit(np.random.default_rng(3).normal(size=64))
    row0, col0, rows, cols = WINDOW
    west, north = lonlat(source, row0 + 0.5, col0 + 0.5)
    east, south = lonlat(source, row0 + rows - 0.5, col0 + cols - 0.5)
    aoi = AOI.from_bounds(west, south, east, north)
    ctx = LocalContext(source)
    product = index_product(ctx, YEAR, list(weights * 3.0), aoi)  # the scale does not matter
    grid, whole = source.grid(aoi), source.grid(None)
    col, row = (round(v) for v in ~whole.transform @ (grid.transform.c, grid.transform.f))
    values = reference_field(source, (row, col, grid.height, grid.width)) @ weights
    # which pixel centres lie in the lon/lat rectangle, computed here with pyproj
    rr, cc = np.mgrid[row : row + grid.height, col : col + grid.width] + 0.5
    lon, lat = Transformer.from_crs(whole.crs, "EPSG:4326", always_xy=True).transform(*(whole.transform @ (cc, rr)))
    inside = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north) & np.isfinite(values)
    threshold = float(np.round(np.quantile(values[inside], 0.7), 3))
    summary = product.above_area(ctx, threshold, None)
    expected = 100.0 * np.count_nonzero(values[inside] >= threshold) / np.count_nonzero(inside)
    assert summary.percent == pytest.approx(expected, abs=100.0 * 3 / np.count_nonzero(inside))  # 3 edge pixels
    assert 25 < summary.percent < 35 and "AOI" in summary.scope


def test_bad_weights_are_refused_in_words(source):
    ctx = LocalContext(source)
    with pytest.raises(ValueError, match="needs 64 weights, one per band, not 3"):
        index_product(ctx, YEAR, [1.0, 2.0, 3.0], None)
    with pytest.raises(ValueError, match="not all zero"):
        index_product(ctx, YEAR, [0.0] * 64, None)
    with pytest.raises(AEFError, match="no data for 1999"):
        index_product(ctx, 1999, [1.0] * 64, None)


def panel_on_a_map(source) -> IndexPanel:
    return IndexPanel(ExplorerState(source, year=YEAR), map=make_map(source), runner=JobRunner.inline())


def test_two_clicks_set_the_direction_and_the_threshold_halfway(source):
    panel = panel_on_a_map(source)
    panel.picking.value = True
    low = reference_field(source, (*LOW, 1, 1))[0, 0]
    high = reference_field(source, (*HIGH, 1, 1))[0, 0]
    click(panel.map, *lonlat(source, LOW[0] + 0.5, LOW[1] + 0.5))
    assert "now click" in panel.notice.value and panel.state.index_weights == []
    click(panel.map, *lonlat(source, HIGH[0] + 0.5, HIGH[1] + 0.5))
    w = unit(high - low)
    np.testing.assert_allclose(panel.value, w, atol=1e-6)
    assert panel.state.index_weights == panel.value
    assert panel.state.index_threshold == pytest.approx(w @ (low + high) / 2, abs=1e-6)
    assert w @ low < panel.threshold.value < w @ high  # the low pixel is below it, the high one above
    names = [layer.name for layer in panel.map.layers]
    assert "Index" in names and "Index above threshold" in names
    assert "At or above the threshold (≥" in panel.map_layers.area_text.value
    assert panel.flow.keys[INDEX.product.name]["index_weights"] == tuple(panel.value)


def test_a_click_off_the_data_is_explained(source):
    panel = panel_on_a_map(source)
    panel.picking.value = True
    west, south, east, north = source.footprint.lonlat_bounds()
    click(panel.map, west - 1.0, south - 1.0)
    click(panel.map, east - 0.001, north - 0.001)
    assert "no embedding at that point" in panel.notice.value and panel.state.index_weights == []


def test_pasted_weights_are_checked_then_used(source):
    panel = panel_on_a_map(source)
    panel.weights_text.value = "1, 2, 3"
    panel.use_weights.click()
    assert "needs 64 weights" in panel.notice.value and panel.state.index_weights == []
    panel.weights_text.value = "one two"
    panel.use_weights.click()
    assert "could not read the weights as numbers" in panel.notice.value
    weights = np.random.default_rng(1).normal(size=64)
    panel.weights_text.value = "\n".join(f"{x:.6f}" for x in weights)
    panel.use_weights.click()
    assert panel.notice.value == "" and np.allclose(panel.state.index_weights, weights, atol=1e-6)
    assert panel.product is not None and panel.product.vmin == -1.0
    before = next(x for x in panel.map.layers if x.name == "Index above threshold").url
    panel.threshold.value = 0.2  # as the slider sends it
    assert panel.state.index_threshold == 0.2
    assert next(x for x in panel.map.layers if x.name == "Index above threshold").url != before


def test_the_explorer_has_an_index_tab_that_picks_only_when_open(source):
    explorer = Explorer(source, runner=JobRunner.inline())
    assert explorer.tabs.get_title(TAB_TITLES.index("Index")) == "Index"
    assert not explorer.index.picking.value
    explorer.tabs.selected_index = TAB_TITLES.index("Index")
    assert explorer.index.picking.value and not explorer.similarity.picking.value
    click(explorer.map, *lonlat(source, LOW[0] + 0.5, LOW[1] + 0.5))
    click(explorer.map, *lonlat(source, HIGH[0] + 0.5, HIGH[1] + 0.5))
    assert explorer.state.probe_points == [] and len(explorer.state.index_weights) == 64


def test_the_earth_engine_index_is_the_bands_times_the_unit_weights_summed(ee_offline, network):
    from aef_widgets.engines.earthengine import EarthEngineEngine
    from aef_widgets.sources.earthengine import EarthEngineSource

    weights = np.arange(1.0, 65.0)
    g = graph(ee_image(EarthEngineSource(), YEAR, weights))
    assert g["functionInvocationValue"]["functionName"] == "Image.rename"
    dot = only_call(g, "Image.reduce")
    assert calls(dot["reducer"], "Reducer.sum") == [{}]
    multiply = only_call(dot, "Image.multiply")
    np.testing.assert_allclose(const(only_call(multiply, "Image.constant")["value"]), unit(weights))
    assert const(only_call(multiply, "Image.select")["bandSelectors"]) == [f"A{i:02d}" for i in range(64)]
    assert [(const(a["start"]), const(a["end"])) for a in calls(g, "DateRange")] == [("2024-01-01", "2025-01-01")]
    engine = EarthEngineEngine(EarthEngineSource())
    product = index_product(engine.context, YEAR, list(weights), None)
    assert network.count() == 0  # built offline: nothing is asked until the map is drawn
    network.answer("getMapId", map_id())
    assert isinstance(product.layer(engine.context, None), Tiles) and network.count("getMapId") == 1


def test_a_closed_index_panel_is_detached_and_no_longer_reacts(source):
    state, m = ExplorerState(source, year=YEAR), make_map(source)
    flow = Flow.of(state)
    flow.track(m, view_of)

    def attached() -> tuple:
        observers = sum(len(h) for by_type in state._trait_notifiers.values() for h in by_type.values())
        subscriptions = {node: len(updates) for node, updates in flow._updates.items() if updates}
        return subscriptions, observers, len(m._interaction_callbacks.callbacks)

    before = attached()
    panel = IndexPanel(state, map=m, runner=JobRunner.inline())
    panel.picking.value = True
    assert attached() != before
    panel.close()
    assert attached() == before
    click(m, *lonlat(source, LOW[0] + 0.5, LOW[1] + 0.5))
    click(m, *lonlat(source, HIGH[0] + 0.5, HIGH[1] + 0.5))
    assert state.index_weights == [] and panel.value == []
