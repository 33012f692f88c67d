"""TimeSeriesPanel charts the clicked pixel's years, as numpy computes them, and a click on the chart sets the year."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from pyproj import Transformer

from aef_widgets.core.aoi import AOI
from aef_widgets.sources.sample import sample_dir, sample_source, sample_truth
from aef_widgets.widgets import ExplorerState, TimeSeriesPanel, make_map
from tests.widgets.frontend import click, send_custom


@pytest.fixture(scope="module")
def sample():
    return sample_source()


@pytest.fixture
def panel(sample, runner):
    m = make_map(sample)
    return TimeSeriesPanel(ExplorerState(sample), map=m, runner=runner), m


def vectors_at(lon: float, lat: float, years) -> np.ndarray:
    """The pixel's dequantized vectors, one row per year, read with rasterio from the sample's COGs."""
    rows = []
    for year in years:
        with rasterio.open(sample_dir() / f"aef_sample_{year}.tif") as ds:
            x, y = Transformer.from_crs("EPSG:4326", ds.crs, always_xy=True).transform(lon, lat)
            r, c = ds.index(x, y)
            q = ds.read(window=((r, r + 1), (c, c + 1)))[:, 0, 0].astype(np.float64)
        rows.append(np.sign(q) * (q / 127.5) ** 2)
    return np.array(rows)


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def event_point(name: str) -> tuple[float, float]:
    """The lon/lat of the centre pixel of a planted event's mask."""
    truth, source = sample_truth(), sample_source()
    mask = truth.event_mask(name)
    rows, cols = np.nonzero(mask)
    r, c = int(np.median(rows)), int(np.median(cols))
    with rasterio.open(sample_dir() / f"aef_sample_{source.years[0]}.tif") as ds:
        x, y = ds.xy(r, c)
        lon, lat = Transformer.from_crs(ds.crs, "EPSG:4326", always_xy=True).transform(x, y)
    return lon, lat


def test_a_map_click_charts_the_pixel_as_numpy_computes_it(panel, sample):
    widget, m = panel
    lon, lat = event_point("clearing")
    click(m, lon, lat)
    assert widget.value == pytest.approx((lon, lat))
    years = list(sample.years)
    v = vectors_at(lon, lat, years)
    reference = widget.state.year
    expected_ref = cosine(v, v[years.index(reference)][None])
    expected_y2y = np.concatenate([[np.nan], cosine(v[1:], v[:-1])])
    np.testing.assert_allclose(widget.lines.x, years)
    np.testing.assert_allclose(widget.lines.y[0], expected_ref, atol=1e-5)
    np.testing.assert_allclose(widget.lines.y[1], expected_y2y, atol=1e-5)
    np.testing.assert_allclose(widget.points.y, expected_ref, atol=1e-5)
    # the clearing of 2023 is where this pixel changed most from the year before
    assert years[int(np.nanargmin(widget.lines.y[1]))] == sample_truth().event("clearing").year
    assert "<b>2023</b>" in widget.summary.value
    assert any(x.name == "Charted pixel" for x in m.layers)


def test_clicking_a_chart_point_sets_the_year_and_the_reference(panel, sample):
    widget, m = panel
    lon, lat = event_point("fire")
    click(m, lon, lat)
    years = list(sample.years)
    # what bqplot's Scatter view sends on a click: the clicked datum, with its index
    index = years.index(2020)
    send_custom(widget.points, {"event": "element_click", "data": {"x": 2020.0, "y": 0.5, "index": index}})
    assert widget.state.year == 2020
    assert widget.trajectory.reference_year == 2020 and widget.points.selected.tolist() == [index]
    v = vectors_at(lon, lat, years)
    np.testing.assert_allclose(widget.lines.y[0], cosine(v, v[index][None]), atol=1e-5)
    assert widget.lines.y[0][index] == pytest.approx(1.0)
    assert widget.computed.computations == 2  # the first click, then the new reference: nothing twice


def test_the_aoi_mean_equals_the_numpy_mean(sample, runner):
    west, south, east, north = sample.footprint.lonlat_bounds()
    aoi = AOI.from_bounds(west + 0.01, south + 0.01, west + 0.02, south + 0.018)
    widget = TimeSeriesPanel(ExplorerState(sample, aoi=aoi, year=2018), runner=runner)
    widget.use_aoi.value = True
    fields = [sample.read(aoi, y) for y in sample.years]
    ref = fields[0]
    expected = []
    for f in fields:
        with np.errstate(invalid="ignore", divide="ignore"):
            c = np.einsum("...k,...k->...", f.values, ref.values) / (f.norms * ref.norms)
        expected.append(np.nanmean(c))
    np.testing.assert_allclose(widget.lines.y[0], expected, atol=1e-6)
    assert "AOI mean" in widget.summary.value


def test_aoi_mean_without_an_aoi_says_what_to_do(sample, runner):
    widget = TimeSeriesPanel(ExplorerState(sample), runner=runner)
    widget.use_aoi.value = True
    assert "Draw an AOI" in widget.status.value and widget.trajectory is None
    assert widget.chart is None and widget.chart_box.children == ()  # nothing charted: not even bqplot is loaded


def test_map_clicks_chart_only_while_the_time_tab_is_open(sample, runner):
    from aef_widgets.explorer import TAB_TITLES, Explorer

    app = Explorer(sample, runner=runner)
    lon, lat = event_point("construction")
    app.tabs.selected_index = TAB_TITLES.index("Similarity")
    click(app.map, lon, lat)
    assert app.time.value is None and len(app.state.probe_points) == 1
    app.tabs.selected_index = TAB_TITLES.index("Time")
    click(app.map, lon, lat)
    assert app.time.value == pytest.approx((lon, lat)) and len(app.state.probe_points) == 1
    assert app.time.trajectory is not None and len(app.time.points.x) == len(sample.years)


def test_a_trajectory_for_an_older_year_is_never_shown(sample):
    from aef_widgets.widgets import JobRunner
    from aef_widgets.widgets.ui_loop import UILoop
    from tests.widgets.frontend import ManualExecutor

    pool = ManualExecutor()
    widget = TimeSeriesPanel(ExplorerState(sample), runner=JobRunner(pool, loop=UILoop.immediate()))
    lon, lat = event_point("clearing")
    widget.set_pixel(lon, lat)
    widget.state.year = 2020  # while the first one is computed
    pool.run_all()
    assert widget.trajectory is not None and widget.trajectory.reference_year == 2020
    assert widget.lines.y[0][list(sample.years).index(2020)] == pytest.approx(1.0)
    assert widget.computed.computations == 1  # the superseded request never ran


def test_the_year_axis_ticks_every_year_and_the_legend_is_outside_the_data(panel, sample):
    """Issue 22: d3's ticks were 2018, 2019, 2021, 2022... at fractional positions, and bqplot's legend box sat on
    the data points. Every year of the source is a tick labelled as an integer, inside the x range with room to
    spare; the legend is HTML under the figure, and the figure draws none."""
    widget, m = panel
    click(m, *event_point("clearing"))
    axis = widget.chart.axes[0]
    years = list(sample.years)
    assert list(axis.tick_values) == list(range(years[0], years[-1] + 1))
    assert all(float(v).is_integer() for v in axis.tick_values) and axis.tick_format == "d"
    scale = widget.lines.scales["x"]
    assert scale.min < years[0] and scale.max > years[-1]  # no point on the frame
    assert not widget.lines.display_legend and not widget.points.display_legend
    assert list(widget.chart_box.children) == [widget.chart, widget.legend]
    assert "to the reference year" in widget.legend.value and "to the year before" in widget.legend.value
    assert widget.legend.layout.visibility == "visible"


def charted_marker(m) -> list:
    import ipyleaflet

    from aef_widgets.widgets.time_series import PIXEL_COLOR

    found = []
    for layer in m.layers:
        found += [x for x in getattr(layer, "layers", [layer]) if isinstance(x, ipyleaflet.CircleMarker)]
    return [x for x in found if x.fill_color == PIXEL_COLOR]


def test_the_explorer_takes_the_pixel_marker_off_outside_the_time_tab_and_back_on_it(sample):
    """Issue 22: the yellow marker stayed on the map next to the similarity references after leaving the tab."""
    from aef_widgets.explorer import TAB_TITLES, Explorer
    from aef_widgets.widgets import JobRunner

    explorer = Explorer(sample, runner=JobRunner.inline())
    m = explorer.map
    explorer.tabs.selected_index = TAB_TITLES.index("Time")
    lon, lat = event_point("clearing")
    click(m, lon, lat)
    (marker,) = charted_marker(m)
    assert marker.location == pytest.approx((lat, lon))
    explorer.tabs.selected_index = TAB_TITLES.index("Similarity")
    assert charted_marker(m) == []
    click(m, lon + 0.001, lat)  # a similarity reference, not a charted pixel
    assert explorer.time.value == pytest.approx((lon, lat)) and charted_marker(m) == []
    explorer.tabs.selected_index = TAB_TITLES.index("Time")
    (marker,) = charted_marker(m)  # back with the chart it belongs to
    assert marker.location == pytest.approx((lat, lon))
