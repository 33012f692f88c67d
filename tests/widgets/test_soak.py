"""A long session in one kernel: 1,000 mixed interactions leave no widgets, memory or threads behind, and the app
still answers at the end."""

from __future__ import annotations

import gc
import random
import threading

from ipywidgets.widgets import widget as widget_module

from aef_widgets.explorer import TAB_TITLES, Explorer
from aef_widgets.widgets import JobRunner
from tests.widgets.frontend import click, draw, rectangle, send_state

INTERACTIONS = 1000


def live_widgets() -> int:
    gc.collect()
    return len(widget_module._instances)


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def test_a_thousand_interactions_leak_nothing(two_year_source, tmp_path):
    explorer = Explorer(two_year_source, runner=JobRunner.inline(), export_dir=tmp_path)
    m, state = explorer.map, explorer.state
    west, south, east, north = two_year_source.footprint.lonlat_bounds()
    lon0, lat0 = (west + east) / 2, (south + north) / 2
    rng = random.Random(0)

    def some_point() -> tuple[float, float]:
        return rng.uniform(west, east), rng.uniform(south, north)

    def pan() -> None:
        dx, dy = rng.uniform(-0.002, 0.002), rng.uniform(-0.002, 0.002)
        bounds = [[south + dy, west + dx], [north + dy, east + dx]]
        send_state(m, {"bounds": bounds, "pixel_bounds": [[0, 0], [800, 600]], "center": [lat0 + dy, lon0 + dx]})

    def similarity() -> None:
        explorer.tabs.selected_index = TAB_TITLES.index("Similarity")
        click(m, *some_point())
        if len(state.probe_points) > 3:
            explorer.similarity.clear.click()

    def aoi() -> None:
        if state.aoi is None:
            w, s = rng.uniform(west, lon0), rng.uniform(south, lat0)
            draw(explorer.aoi.draw_control, rectangle(w, s, w + 0.003, s + 0.002))
        else:
            explorer.aoi.clear.click()

    actions = [
        pan, similarity, aoi,
        lambda: setattr(explorer.year.dropdown, "value", rng.choice([2023, 2024])),
        lambda: setattr(explorer.bands.red, "value", rng.choice(["A01", "A05", "A30"])),
        lambda: setattr(state, "similarity_threshold", rng.choice([0.5, 0.8, 0.9])),
        lambda: setattr(state, "change_threshold", rng.choice([0.1, 0.3])),
        lambda: setattr(explorer.change.show_map, "value", not explorer.change.show_map.value),
        lambda: setattr(m, "zoom", rng.choice([14, 15, 16])),
    ]  # fmt: skip
    rare = [explorer.clusters.run.click, lambda: explorer.clusters.export(tmp_path / "clusters.tif")]

    def interact(i: int) -> None:
        (rng.choice(rare) if i % 25 == 0 else rng.choice(actions))()

    for i in range(100):  # warm up: every kind of layer and row has existed once
        interact(i)
    widgets, rss, threads = live_widgets(), rss_mib(), threading.active_count()
    for i in range(100, 100 + INTERACTIONS):
        interact(i)
    assert live_widgets() <= widgets + 60, "replaced layers, markers or rows were not closed"
    assert rss_mib() <= rss + 150
    assert threading.active_count() <= threads
    # and everything still answers
    explorer.tabs.selected_index = TAB_TITLES.index("Similarity")
    explorer.similarity.clear.click()
    click(m, lon0, lat0)
    assert "<b>1.00</b>" in explorer.similarity.readout.value
    assert explorer.layers.value  # the layer list shows the layers that are on the map
    assert len(explorer.layers.children) == len(explorer.layers.value)
