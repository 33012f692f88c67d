"""The one event flow: each action computes each product at most once, results come back on the kernel loop, the
layer order follows its rule, and a result for a state that has moved on is never shown or exported."""

from __future__ import annotations

import asyncio
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import ipyleaflet
import pytest

from aef_widgets.core.aoi import AOI
from aef_widgets.engines.base import Tiles
from aef_widgets.explorer import TAB_TITLES, Explorer
from aef_widgets.widgets import ClusterPanel, ExplorerState, JobRunner, YearPicker, make_map
from aef_widgets.widgets.layer_stack import LayerStack
from aef_widgets.widgets.ui_loop import UILoop
from tests.widgets.frontend import ManualExecutor, click, draw, rectangle


def spy(state: ExplorerState) -> dict[str, int]:
    """Count the calls to the state's real engine's products (a spy on the real engine, whose products are real)."""
    engine, calls = state.engine, {}
    for name in ("rgb", "similarity", "change", "clusters"):
        method = getattr(engine, name)

        def counted(*args, _name=name, _method=method, **kwargs):
            calls[_name] = calls.get(_name, 0) + 1
            return _method(*args, **kwargs)

        setattr(engine, name, counted)
    return calls


def counted_explorer(source, **kwargs) -> tuple[Explorer, dict[str, int]]:
    explorer = Explorer(source, runner=JobRunner.inline(), **kwargs)
    return explorer, spy(explorer.state)


def test_switching_the_source_runs_each_product_once(two_year_source, real_source):
    explorer = Explorer(real_source, runner=JobRunner.inline())
    explorer.clusters.run.click()
    explorer.tabs.selected_index = TAB_TITLES.index("Similarity")
    lon, lat = real_source.footprint.center_lonlat
    click(explorer.map, lon, lat)
    explorer.change.show_map.value = True
    runs = {name: node.computations for name, node in nodes(explorer).items()}
    explorer.state.source = two_year_source
    after = {name: node.computations - runs[name] for name, node in nodes(explorer).items()}
    assert after == {"rgb": 1, "clusters": 1, "change": 1, "aoi": 0, "similarity": 0}  # references were cleared
    assert explorer.clusters.value.year == 2024 and explorer.state.year == 2024


def nodes(explorer: Explorer) -> dict:
    return {
        "rgb": explorer.bands.computed, "clusters": explorer.clusters.computed, "change": explorer.change.computed,
        "aoi": explorer.aoi.summary, "similarity": explorer.similarity.computed,
    }  # fmt: skip


def test_a_drawn_aoi_computes_each_product_at_most_once(real_source):
    explorer, engine = counted_explorer(real_source)
    explorer.tabs.selected_index = TAB_TITLES.index("Similarity")
    lon, lat = real_source.footprint.center_lonlat
    click(explorer.map, lon, lat)
    explorer.change.show_map.value = True
    engine.clear()
    before = {name: node.computations for name, node in nodes(explorer).items()}
    west, south, east, north = real_source.footprint.lonlat_bounds()
    draw(explorer.aoi.draw_control, rectangle(west + 0.001, south + 0.001, east - 0.002, north - 0.001))
    after = {name: node.computations - before[name] for name, node in nodes(explorer).items()}
    assert after == {"rgb": 0, "clusters": 0, "change": 0, "aoi": 1, "similarity": 1}
    assert engine == {"similarity": 1}  # change of one year pair costs nothing until drawn: no new product
    assert "pixels at 10 m" in explorer.aoi.info.value


def test_a_year_change_recomputes_each_single_year_product_once(real_source, two_year_source):
    explorer, engine = counted_explorer(two_year_source)
    explorer.clusters.run.click()
    engine.clear()
    explorer.year.dropdown.value = 2023
    assert engine == {"rgb": 1, "clusters": 1}


def test_nothing_slow_runs_on_the_ui_thread(two_year_source):
    """With a real pool, a drawn AOI and a year change return at once: the work is all in the pool."""
    pool = ManualExecutor()
    explorer = Explorer(two_year_source, runner=JobRunner(pool, loop=UILoop.immediate()))
    engine = spy(explorer.state)
    west, south, east, north = two_year_source.footprint.lonlat_bounds()
    draw(explorer.aoi.draw_control, rectangle(west + 0.001, south + 0.001, east - 0.002, north - 0.001))
    explorer.change.show_map.value = True
    explorer.year.dropdown.value = 2023
    assert engine == {}  # no product was built on the UI thread: each is waiting in the pool
    assert "counting pixels" in explorer.aoi.info.value
    pool.run_all()
    assert engine == {"rgb": 1, "change": 1}
    assert "pixels at 10 m" in explorer.aoi.info.value


def test_a_late_cluster_result_for_an_old_year_is_never_shown_or_exported(two_year_source, tmp_path):
    pool = ManualExecutor()
    state = ExplorerState(two_year_source)
    m = make_map(two_year_source)
    panel = ClusterPanel(state, map=m, runner=JobRunner(pool, loop=UILoop.immediate()), export_dir=tmp_path)
    panel.run.click()
    running = len(pool.pending)
    state.year = 2023  # while 2024 is being clustered
    pool.run(running - 1)  # the 2024 run finishes late...
    assert panel.value is None and "Clusters" not in [x.name for x in m.layers]  # ...and is dropped
    pool.run_all()
    assert panel.value.year == 2023 and panel.legend.value
    assert panel.export().name == "aef_clusters_2023_k5.tif"


def test_a_cluster_result_for_an_old_aoi_is_never_shown(two_year_source):
    pool = ManualExecutor()
    west, south, east, north = two_year_source.footprint.lonlat_bounds()
    state = ExplorerState(two_year_source, aoi=AOI.from_bounds(west, south, east, north))
    m = make_map(two_year_source)
    panel = ClusterPanel(state, map=m, runner=JobRunner(pool, loop=UILoop.immediate()))
    panel.run.click()
    state.aoi = AOI.from_bounds(west + 0.002, south + 0.002, west + 0.004, south + 0.004)  # a new, small AOI
    pool.run_all()
    assert panel.value is None and not panel.legend.value
    assert "Clusters" not in [x.name for x in m.layers]
    assert "AOI changed" in panel.status.value


def test_the_layer_order_follows_the_rule_after_year_band_aoi_and_source_changes(two_year_source, real_source):
    explorer = Explorer(two_year_source, runner=JobRunner.inline())
    explorer.tabs.selected_index = TAB_TITLES.index("Similarity")
    lon, lat = two_year_source.footprint.center_lonlat
    click(explorer.map, lon, lat)
    explorer.change.show_map.value = True
    explorer.clusters.run.click()  # asked for last: the clusters are the top result
    expected = ["RGB composite", "Similarity", "Similarity matches", "Change", "Changed pixels", "Clusters",
                "Similarity references"]  # fmt: skip

    def ours() -> list[str]:
        return [x.name for x in LayerStack.of(explorer.map).layers()]

    assert ours() == expected
    explorer.year.dropdown.value = 2023
    explorer.bands.red.value = "A30"
    west, south, east, north = two_year_source.footprint.lonlat_bounds()
    draw(explorer.aoi.draw_control, rectangle(west + 0.001, south + 0.001, east - 0.002, north - 0.001))
    # redraws never reorder (the clusters are cleared by the new AOI)
    assert ours() == [*expected[:-2], "AOI", "Similarity references"]
    click(explorer.map, lon, lat)  # a new reference: similarity is asked for last now
    assert ours()[-4:-2] == ["Similarity", "Similarity matches"]
    mine = [x for x in explorer.map.layers if x in LayerStack.of(explorer.map).layers()]
    assert mine == LayerStack.of(explorer.map).layers()  # the map shows exactly that order, above the basemaps


def test_concurrent_results_under_forced_thread_switching_lose_no_layer():
    """400 layer updates from a pool, with the interpreter switching threads every microsecond."""
    m = ipyleaflet.Map()
    stack = LayerStack.of(m)
    kinds = ["rgb", "change", "changed", "clusters", "similarity", "matches"]
    slots = [stack.slot(f"layer {i}", kinds[i % len(kinds)]) for i in range(40)]
    loop = asyncio.new_event_loop()
    runner = JobRunner(ThreadPoolExecutor(8), loop=UILoop(loop, threading.current_thread()))
    done = []
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for n in range(400):
            slot = slots[n % len(slots)]
            url = f"https://tiles.example/{n}/{{z}}/{{x}}/{{y}}"
            runner.submit(
                f"c{n}", lambda job, url=url: Tiles(url), lambda t, s=slot: (s.show(t), done.append(1)), print
            )

        async def settle():
            while len(done) < 400:
                await asyncio.sleep(0.005)

        loop.run_until_complete(asyncio.wait_for(settle(), 60))
    finally:
        sys.setswitchinterval(before)
        loop.close()
    ours = [x for x in m.layers if isinstance(x, ipyleaflet.TileLayer) and "tiles.example" in x.url]
    assert len(ours) == 40  # every slot has its layer, none lost
    assert ours == stack.layers()
    order = [slots.index(next(s for s in slots if s.layer is x)) for x in ours]
    families = [kinds[i % len(kinds)] for i in order]
    ranks = [stack._rank(x) for x in ours]
    assert ranks == sorted(ranks) and families[0] == "rgb"


def test_unknown_keyword_arguments_are_refused(real_source):
    state = ExplorerState(real_source)
    with pytest.raises(TypeError, match="mapp"):
        YearPicker(state, mapp=make_map(real_source))


def test_redraws_never_wait_behind_long_work(two_year_source):
    """k-means blocked in the background: a band change still redraws at once, and the result comes on the loop."""
    loop = asyncio.new_event_loop()
    runner = JobRunner(loop=UILoop(loop, threading.current_thread()))
    explorer = Explorer(two_year_source, runner=runner)
    release, applied_on = threading.Event(), []
    clusters = explorer.state.engine.clusters

    def slow_clusters(*args, **kwargs):
        release.wait(30)
        return clusters(*args, **kwargs)

    explorer.state.engine.clusters = slow_clusters
    explorer.clusters.observe(lambda _: applied_on.append(threading.current_thread()), names="value")

    def wait_for(condition, seconds: float = 30) -> None:
        async def poll():
            while not condition():
                await asyncio.sleep(0.01)

        loop.run_until_complete(asyncio.wait_for(poll(), seconds))

    wait_for(lambda: explorer.map.layers[-1].name == "RGB composite")
    explorer.clusters.run.click()
    rgb = next(x for x in explorer.map.layers if x.name == "RGB composite")
    before = rgb.url
    explorer.bands.red.value = "A30"
    wait_for(lambda: rgb.url != before, 20)  # redrawn while k-means still waits
    assert explorer.clusters.value is None and explorer.clusters.cancel_button.layout.display == ""
    release.set()
    wait_for(lambda: explorer.clusters.value is not None)
    loop.close()
    assert set(applied_on) == {threading.current_thread()}


def test_a_huge_sample_size_is_refused_in_words_before_any_work(real_source, fresh_map, runner):
    panel = ClusterPanel(ExplorerState(real_source), map=fresh_map, runner=runner)
    panel.samples.value = 1_000_000_000
    assert panel.state.n_samples == 500 and panel.samples.value == 500
    assert "at most 100,000" in panel.status.value


def test_cancel_stops_a_run_at_its_next_report_and_shows_nothing():
    from aef_widgets.sources.sample import sample_source

    source = sample_source()  # 1024 x 1024 px: k-means streams it in chunks, reporting progress after each
    pool = ManualExecutor()
    state = ExplorerState(source)
    panel = ClusterPanel(state, map=make_map(source), runner=JobRunner(pool, loop=UILoop.immediate()))
    seen = []
    panel.computed.progress = lambda fraction, message: (seen.append(fraction), panel.cancel_button.click())
    panel.run.click()
    assert panel.cancel_button.layout.display == ""
    pool.run_all()  # the first chunk's report presses Cancel; the next report stops the work
    assert len(seen) == 1 and panel.value is None and panel.status.value.endswith("Cancelled.</span>")
    assert panel.run.disabled is False and panel.cancel_button.layout.display == "none"
