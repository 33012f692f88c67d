"""The "Search wider" section of the similarity panel (``widgets/search_wider.py``), driven by the frontend's
messages: map clicks, an Accordion opened, Dropdowns and a Select chosen by index, Buttons clicked, text typed.

On the bundled sample (1,024 x 1,024 px of 10 m), the matches on the map and in the list are checked against
``find_similar(..., exact=True)`` called here on a region computed here from the map's view; that reference is
itself checked against a numpy top-k of the documented score read with plain rasterio in
tests/engines/test_region_search.py. The region's area is checked against pyproj's geodesic area of the box.
"""

from __future__ import annotations

import html
import re
import threading

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod

from aef_widgets.core.aoi import AOI
from aef_widgets.core.execution import scoped
from aef_widgets.engines import region_search
from aef_widgets.engines.region_search import find_similar
from aef_widgets.engines.workflows import WORKERS
from aef_widgets.sources.geotiff import GeoTIFFSource
from aef_widgets.sources.sample import sample_source
from aef_widgets.widgets import ExplorerState, JobRunner, SimilarityProbe, make_map
from aef_widgets.widgets.flow import Flow
from aef_widgets.widgets.map_view import view_of
from tests.widgets.frontend import ManualExecutor, click, send_custom, send_state
from tests.widgets.test_panel_close import live_widgets

YEAR = 2024


@pytest.fixture(scope="module")
def source():
    return sample_source()


def probe_on(source, tmp_path, runner=None, state=None) -> SimilarityProbe:
    """The similarity panel on the sample with one reference clicked, its "Search wider" section opened."""
    state = state or ExplorerState(source, year=YEAR)
    m = make_map(source)
    probe = SimilarityProbe(state, map=m, runner=runner or JobRunner.inline(), export_dir=tmp_path)
    click(m, *source.footprint.center_lonlat)
    send_state(probe.wider.fold, {"selected_index": 0})
    return probe


def press(button) -> None:
    send_custom(button, {"event": "click"})


def choose(dropdown, value) -> None:
    send_state(dropdown, {"index": [v for _, v in dropdown.options].index(value)})


def view_times(view, n: float) -> AOI:
    """The view n times as wide and as tall, around its centre (what the panel calls the view times N)."""
    cx, cy = (view.west + view.east) / 2, (view.south + view.north) / 2
    w, h = (view.east - view.west) * n / 2, (view.north - view.south) * n / 2
    return AOI.from_bounds(cx - w, cy - h, cx + w, cy + h)


def shown_matches(probe):
    """The markers on the map: (lon, lat) and score of each feature of the one "Search matches" layer."""
    layers = [x for x in probe.map.layers if x.name == "Search matches"]
    if not layers:
        return None
    (layer,) = layers
    features = layer.data["features"]
    return [tuple(f["geometry"]["coordinates"]) for f in features], [f["properties"]["score"] for f in features]


def test_a_search_over_the_view_times_n_shows_the_exact_best_matches(source, tmp_path):
    probe = probe_on(source, tmp_path)
    wider = probe.wider
    choose(wider.factor, 8)
    region = view_times(probe.current_view(), 8)
    # before starting: the region's size (area, pixels) and an estimate
    km2 = float(re.search(r"([\d,.]+) km²", wider.plan.value).group(1).replace(",", ""))
    west, south, east, north = region.bounds
    edge = np.linspace(0, 1, 200)
    lons = np.concatenate([west + (east - west) * edge, np.full(200, east), east - (east - west) * edge,
                           np.full(200, west)])  # fmt: skip
    lats = np.concatenate([np.full(200, south), south + (north - south) * edge, np.full(200, north),
                           north - (north - south) * edge])  # fmt: skip
    assert km2 == pytest.approx(abs(Geod(ellps="WGS84").polygon_area_perimeter(lons, lats)[0]) / 1e6, rel=2e-3)
    assert "1,024 x 1,024 px at 10 m" in wider.plan.value  # the sample's pixels, all inside the region
    assert re.search(r"about [\d.]+ MB .*read", wider.plan.value) and "an estimate" in wider.plan.value
    assert not wider.start.disabled

    press(wider.start)
    expected = find_similar(source, region, YEAR, probe.state.probe_points, top=100, exact=True)
    points, scores = shown_matches(probe)
    assert scores == expected["score"].tolist()
    assert points == [(p.x, p.y) for p in expected.geometry]
    assert len(wider.rows.options) == 100
    for (label, row), (rank, score, p) in zip(wider.rows.options, expected[["rank", "score", "geometry"]].values):
        assert row == rank - 1 and label.startswith(f"{rank}. score {score:.3f} at {p.x:.5f}, {p.y:.5f}")
    assert "100 matches" in wider.status.value and "coarse-to-fine" in wider.status.value
    # the exact search from the panel: the same matches
    send_state(wider.exact, {"value": True})
    press(wider.start)
    assert shown_matches(probe)[1] == expected["score"].tolist()
    assert "exact search" in wider.status.value
    # a row flies the map to its match; the view times N is now around it, and says so before the next search
    send_state(wider.rows, {"index": 7})
    target = expected.geometry.iloc[7]
    assert tuple(probe.map.center) == (target.y, target.x) and probe.map.zoom >= 17
    moved = view_times(probe.current_view(), 8)
    assert moved.area_km2 < region.area_km2 / 10
    assert f"{moved.area_km2:,.1f} km²" in wider.plan.value
    # a click on a marker chooses its row (and flies there)
    (layer,) = [x for x in probe.map.layers if x.name == "Search matches"]
    feature = layer.data["features"][42]
    send_custom(layer, {"event": "click", "feature": feature, "properties": feature["properties"]})
    assert wider.rows.value == 42 and tuple(probe.map.center) == tuple(reversed(feature["geometry"]["coordinates"]))


def test_cancel_mid_search_stops_the_work_and_leaves_no_markers_or_list(source, tmp_path, monkeypatch):
    probe = probe_on(source, tmp_path)
    wider = probe.wider
    press(wider.start)
    assert shown_matches(probe) is not None and wider.rows.options  # an earlier search's matches
    # chunks of one 256 px tile (16 over the sample); count the reads the search makes
    chunk = 256 * 256 * 64 * 4
    monkeypatch.setattr(region_search, "CHUNK_BYTES", chunk)
    grid = source.grid(view_times(probe.current_view(), 4))
    total = len(source.chunk_windows(grid, chunk))
    reads, lock, real_read = [0], threading.Lock(), GeoTIFFSource.read_window

    def counted(self, *args, **kwargs):
        with lock:
            reads[0] += 1
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(GeoTIFFSource, "read_window", counted)
    # the user presses Cancel as soon as the bar moves
    wider.progress.observe(lambda c: c["new"] > 0 and press(wider.stop), names="value")
    send_state(wider.exact, {"value": True})
    press(wider.start)
    # the work stopped at its next chunk: what was in flight (a chunk per worker plus one) and no more
    assert total == 16 and 1 <= reads[0] <= WORKERS + 2 < total
    assert shown_matches(probe) is None and wider.rows.options == () and wider.value is None
    assert wider.save_geojson.disabled and wider.save_parquet.disabled and wider.stop.disabled
    assert "cancelled" in wider.status.value and not wider.start.disabled
    assert wider.progress.layout.visibility == "hidden"


def test_cancel_before_the_search_starts_reads_nothing_and_shows_nothing(source, tmp_path):
    executor = ManualExecutor()
    probe = probe_on(source, tmp_path, runner=JobRunner(executor))
    executor.run_all()  # the click's similarity and the region's plan
    press(probe.wider.start)
    assert len(executor.pending) == 1 and not probe.wider.stop.disabled
    press(probe.wider.stop)
    executor.run_all()
    assert shown_matches(probe) is None and probe.wider.rows.options == ()
    assert "cancelled" in probe.wider.status.value


def test_a_match_added_as_negative_changes_the_references_and_the_next_search(source, tmp_path):
    probe = probe_on(source, tmp_path)
    wider, state = probe.wider, probe.state
    choose(wider.spacing, 200)
    press(wider.start)
    first = wider.value
    send_state(wider.rows, {"index": 3})
    press(wider.unlike)
    match = first.geometry.iloc[3]
    assert state.negative_points == [(match.x, match.y)]
    assert wider.rows.options[3][0].endswith("· not like")
    assert "search again" in wider.notice.value
    send_state(wider.rows, {"index": 5})
    press(wider.like)
    liked = first.geometry.iloc[5]
    assert state.probe_points[-1] == (liked.x, liked.y) and len(state.probe_points) == 2
    press(wider.start)  # ranked with the new references
    region = view_times(probe.current_view(), 4)
    expected = find_similar(source, region, YEAR, state.probe_points, state.negative_points, top=100,
                            min_distance_m=200, exact=True)  # fmt: skip
    assert shown_matches(probe)[1] == expected["score"].tolist() != first["score"].tolist()
    assert wider.notice.value == ""


def test_the_matches_export_to_geojson_and_geoparquet_and_read_back(source, tmp_path):
    probe = probe_on(source, tmp_path / "out")
    (tmp_path / "out").mkdir()
    press(probe.wider.start)
    shown = probe.wider.value
    press(probe.wider.save_geojson)
    assert "Download matches_2024.geojson" in probe.wider.download.value
    press(probe.wider.save_parquet)
    assert "Download matches_2024.parquet" in probe.wider.download.value
    for name in ("matches_2024.geojson", "matches_2024.parquet"):
        path = tmp_path / "out" / name
        back = gpd.read_parquet(path) if name.endswith("parquet") else gpd.read_file(path)
        assert back.crs.to_epsg() == 4326
        assert back["rank"].tolist() == shown["rank"].tolist() and set(back["year"]) == {YEAR}
        np.testing.assert_allclose(back["score"], shown["score"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(back.get_coordinates(), shown.get_coordinates(), rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "type a place"),
        ("-88.9, 44.2, -88.7", "3 numbers given"),
        ("-88.9, 44.2, west, 44.3", "'west' is not a number"),
        ("-88.9, 44.4, -88.7, 44.2", "south (44.4) must be less than north (44.2)"),
        ("-88.8, 44.3", "four numbers"),
        ("10, 10, 11, 11", "does not overlap"),
    ],
)
def test_a_bad_box_gives_a_message_and_no_search(source, tmp_path, text, words):
    probe = probe_on(source, tmp_path)
    wider = probe.wider
    choose(wider.region, "box")
    shown = [c for c in (wider.region, wider.factor, wider.box, wider.top) if c.layout.display != "none"]
    assert shown == [wider.region, wider.box, wider.top]  # the box is typed, N is not asked
    send_state(wider.box, {"value": text})
    assert words in html.unescape(wider.plan.value) and wider.start.disabled
    wider.search()  # as if the button were pressed anyway
    assert words in html.unescape(wider.status.value) + html.unescape(wider.plan.value)
    assert shown_matches(probe) is None
    send_state(wider.box, {"value": "-88.82, 44.27, -88.76, 44.32"})  # a good box: searchable again
    assert "km²" in wider.plan.value and not wider.start.disabled
    press(wider.start)
    assert len(shown_matches(probe)[1]) == 100


def test_no_aoi_and_no_reference_are_said_in_words(source, tmp_path):
    state = ExplorerState(source, year=YEAR)
    probe = SimilarityProbe(state, map=make_map(source), runner=JobRunner.inline(), export_dir=tmp_path)
    send_state(probe.wider.fold, {"selected_index": 0})
    press(probe.wider.start)
    assert "click the map for a reference" in probe.wider.status.value
    choose(probe.wider.region, "aoi")
    assert "no AOI is drawn" in probe.wider.plan.value and probe.wider.start.disabled
    west, south, east, north = source.footprint.lonlat_bounds()
    state.aoi = AOI.from_bounds(west, south, (west + east) / 2, (south + north) / 2)
    assert "km²" in probe.wider.plan.value and not probe.wider.start.disabled


def test_a_region_too_large_for_this_process_says_so_with_the_numbers(source, tmp_path, monkeypatch):
    # the limit is 64 release files (4.3 billion px); lowered here so the sample's 128 x 128 px at 80 m exceed it
    monkeypatch.setattr(region_search, "MAX_LOCAL_PX", 10_000)
    probe = probe_on(source, tmp_path)
    plan = probe.wider.plan.value
    assert "Too large to search in this process" in plan and "128 x 128 pixels" in plan
    assert "Dask" in plan and "Earth Engine" in plan and probe.wider.start.disabled
    # with an executor (a Dask cluster's, say) the same region is searched there
    with scoped(2, "test-search-executor") as pool:
        state = ExplorerState(source, year=YEAR, executor=pool)
        probe = probe_on(source, tmp_path, state=state)
        assert "on your executor (2 threads)" in probe.wider.plan.value and not probe.wider.start.disabled
        press(probe.wider.start)
        assert len(shown_matches(probe)[1]) == 100


def test_the_matches_layer_goes_with_the_panel_and_a_new_year_takes_them_away(source, tmp_path):
    state, m = ExplorerState(source, year=YEAR), make_map(source)
    Flow.of(state).track(m, view_of)
    layers, alive = list(m.layers), live_widgets()
    probe = SimilarityProbe(state, map=m, runner=JobRunner.inline(), export_dir=tmp_path)
    click(m, *source.footprint.center_lonlat)
    send_state(probe.wider.fold, {"selected_index": 0})
    press(probe.wider.start)
    assert shown_matches(probe) is not None
    state.year = 2023
    assert shown_matches(probe) is None and probe.wider.rows.options == ()  # found in other data: gone
    press(probe.wider.start)
    send_state(probe.wider.rows, {"index": 2})
    assert shown_matches(probe) is not None
    probe.close()
    assert list(m.layers) == layers
    assert live_widgets() == alive  # every widget of the panel, its matches layer and its list closed
    probe = probe_on(source, tmp_path)  # and a new panel works: nothing it shares was closed
    press(probe.wider.start)
    assert len(shown_matches(probe)[1]) == 100


def test_an_export_folder_that_cannot_be_made_is_said_in_words(source, tmp_path):
    """The folder is made on the first save: where a file stands in its way, the save says so in the status line
    (it raised FileExistsError out of the button's handler: a traceback in the app)."""
    blocked = tmp_path / "taken"
    blocked.write_text("a file, not a folder")
    probe = probe_on(source, blocked / "exports")
    press(probe.wider.start)
    for button in (probe.wider.save_geojson, probe.wider.save_parquet):
        press(button)
        assert "could not save the matches" in html.unescape(probe.wider.status.value)
        assert probe.wider.download.value == ""


def test_a_box_refused_while_a_search_runs_keeps_search_off_when_it_ends(source, tmp_path):
    """The plan refused a box typed during a search, and Search was offered again once the search ended (only a
    plan the engine refused for its size kept it off)."""
    executor = ManualExecutor()
    probe = probe_on(source, tmp_path, runner=JobRunner(executor))
    executor.run_all()
    wider = probe.wider
    choose(wider.region, "box")
    send_state(wider.box, {"value": "-88.82, 44.27, -88.76, 44.32"})
    executor.run_all()
    assert not wider.start.disabled
    press(wider.start)
    send_state(wider.box, {"value": "-88.82, 44.27, west, 44.32"})  # a typo while it runs
    assert "'west' is not a number" in html.unescape(wider.plan.value) and wider.start.disabled
    executor.run_all()
    assert len(shown_matches(probe)[1]) == 100 and wider.stop.disabled
    assert wider.start.disabled  # the plan still refuses the box
    send_state(wider.box, {"value": "-88.82, 44.27, -88.76, 44.32"})
    executor.run_all()
    assert not wider.start.disabled


def test_matches_beyond_the_list_say_so_and_their_markers_fly_there(source, tmp_path, monkeypatch):
    """The list holds the first ``MAX_ROWS`` matches (1,000 can be asked for, 500 listed): it said nothing of the
    rest, and a click on one of their markers did nothing."""
    from aef_widgets.widgets import search_wider

    monkeypatch.setattr(search_wider, "MAX_ROWS", 20)
    probe = probe_on(source, tmp_path)
    wider = probe.wider
    press(wider.start)
    assert len(wider.rows.options) == 20 and len(shown_matches(probe)[1]) == 100
    assert "the first 20 are listed" in html.unescape(wider.status.value)
    (layer,) = [x for x in probe.map.layers if x.name == "Search matches"]
    send_state(wider.rows, {"index": 3})  # a listed match chosen first
    feature = layer.data["features"][42]
    send_custom(layer, {"event": "click", "feature": feature, "properties": feature["properties"]})
    assert tuple(probe.map.center) == tuple(reversed(feature["geometry"]["coordinates"])) and probe.map.zoom >= 17
    assert wider.rows.value is None and wider.like.disabled  # not added in the name of the one chosen before


def test_matches_of_an_aoi_no_longer_drawn_say_so(source, tmp_path):
    """The matches of the AOI searched stayed on show, unremarked, once another AOI was drawn (during the search or
    after it): the list now says the region changed, as it does for the references; the same AOI again, or the view
    N times wider (which moves with the map by design), says nothing."""
    executor = ManualExecutor()
    probe = probe_on(source, tmp_path, runner=JobRunner(executor))
    executor.run_all()
    wider, state = probe.wider, probe.state
    west, south, east, north = source.footprint.lonlat_bounds()
    first = AOI.from_bounds(west, south, (west + east) / 2, (south + north) / 2)
    state.aoi = first
    choose(wider.region, "aoi")
    executor.run_all()
    press(wider.start)
    state.aoi = AOI.from_bounds((west + east) / 2, south, east, (south + north) / 2)  # drawn while it runs
    executor.run_all()
    assert len(shown_matches(probe)[1]) == 100
    assert "The region changed since this search" in wider.notice.value
    state.aoi = first
    executor.run_all()
    assert wider.notice.value == ""
    choose(wider.region, "view")
    executor.run_all()
    assert "The region changed since this search" in wider.notice.value  # the AOI's matches, the view chosen
    press(wider.start)
    executor.run_all()
    send_state(wider.rows, {"index": 4})  # flies there: the view N times wider moves, as it should
    executor.run_all()
    assert wider.notice.value == ""
    choose(wider.region, "aoi")  # the view's matches, the AOI chosen
    executor.run_all()
    assert "The region changed since this search" in wider.notice.value
