"""A long session in one kernel: 1,000 mixed interactions leave no widgets, memory or threads behind, and the app
still answers at the end."""

from __future__ import annotations

import gc
import random
import threading

from ipywidgets.widgets import widget as widget_module

from aef_widgets.core.memory import ENGINE_CACHE_ENV, GDAL_CACHE_ENV
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


#: A visit's interactions, and what the visitor's kernel may hold after them once idle (issue 22: a kernel grew
#: from 322 MB to 776 MB over 300, with GDAL's block cache allowed 512 MB and the engine keeping three full views'
#: embeddings), and straight after the last one (818 MB before the caches were bounded; about 150 MB of it is
#: scikit-learn and SciPy, imported by the first k-means or classification). The busy figure also counts freed
#: pages not yet trimmed, which depend on which thread's arena freed them: 469 MB on a quiet machine, 524-529 MB
#: in CI runs on a loaded one; the bound is there to catch caches that are not bounded, as the growth bound is.
VISIT_INTERACTIONS, VISIT_MAX_RSS_MB, BUSY_MAX_RSS_MB = 300, 450, 600
#: Once every kind of interaction has happened (by the 100th), a bounded kernel stops growing: the RSS at the last
#: checkpoint may exceed the one at 100 by no more than this (measured: +9 MB from 100 to 200).
GROWTH_AFTER_100_MB = 40


def test_a_visit_of_300_interactions_on_the_sample_stays_under_450_mb(tmp_path):
    """A fresh process, as a visitor's kernel: the explorer on the bundled sample, 300 mixed interactions (pans of
    a browser-sized view, similarity, AOI, time, classification clicks, years, bands, thresholds, k-means), sent as
    the frontend sends them. Its RSS once idle (the runner's trim) is what a hub pays per visitor."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    for name in ("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", GDAL_CACHE_ENV, ENGINE_CACHE_ENV):
        env.pop(name, None)  # the defaults are what is measured
    done = subprocess.run(
        [sys.executable, "-m", "tests.widgets.soak_kernel", str(VISIT_INTERACTIONS)],
        cwd=root, env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    print(report)
    assert report["end"] <= VISIT_MAX_RSS_MB, report
    assert report["busy_end"] <= BUSY_MAX_RSS_MB, report
    assert max(report["200"], report["busy_end"]) - report["100"] <= GROWTH_AFTER_100_MB, report
