"""A long session in one kernel: 1,000 mixed interactions leave no widgets, memory or threads behind, and the app
still answers at the end; an Explorer closed and built again 50 times leaves nothing alive."""

from __future__ import annotations

import asyncio
import gc
import random
import threading
import time
import weakref

from ipywidgets.widgets import widget as widget_module

from aef_widgets.core import execution
from aef_widgets.core.memory import ENGINE_CACHE_ENV, GDAL_CACHE_ENV
from aef_widgets.explorer import TAB_TITLES, Explorer
from aef_widgets.sources.sample import sample_source
from aef_widgets.widgets import ExplorerState, JobRunner, make_map
from aef_widgets.widgets.base import Panel
from aef_widgets.widgets.draw_tool import DrawTool
from aef_widgets.widgets.flow import Flow
from aef_widgets.widgets.jobs import IDLE_TRIM_S
from aef_widgets.widgets.layer_stack import LayerStack
from aef_widgets.widgets.map_view import view_of
from tests.widgets.frontend import click, draw, rectangle, send_state

INTERACTIONS = 1000


def live_widgets() -> int:
    gc.collect()
    return len(widget_module._instances)


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def is_pool_thread(thread: threading.Thread) -> bool:
    """One of the process's shared pools' threads (``execution.shared``: made once, each bounded by its size, and
    living as long as the process)."""
    return thread.name.startswith("aef-widgets-")


def threads_besides_pools() -> int:
    """Live threads but the shared pools'."""
    return sum(not is_pool_thread(t) for t in threading.enumerate())


def settled_threads(runner: JobRunner) -> int:
    """``threads_besides_pools()`` once the timers in flight have fired, but for the runner's idle trim.

    Without a loop a delayed callback waits in a timer's thread: the last interactions' debounces (tenths of a
    second) and the runner's idle trim (one at most, ``IDLE_TRIM_S`` away). Counted as they happened to be, the
    same code read 2 threads after the warm-up and 3 at the end in a CI run. Timers that do not fire within 5 s are
    counted, so a leak still shows.
    """
    deadline = time.monotonic() + 5
    while True:
        timers = [t for t in threading.enumerate() if isinstance(t, threading.Timer) and t.is_alive()]
        if len(timers) <= runner._trim_planned or time.monotonic() > deadline:
            return threads_besides_pools() - min(len(timers), int(runner._trim_planned))
        time.sleep(0.02)


def test_a_thousand_interactions_leak_nothing(two_year_source, tmp_path):
    runner = JobRunner.inline()
    explorer = Explorer(two_year_source, runner=runner, export_dir=tmp_path)
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
    widgets, rss, threads = live_widgets(), rss_mib(), settled_threads(runner)
    for i in range(100, 100 + INTERACTIONS):
        interact(i)
    assert live_widgets() <= widgets + 60, "replaced layers, markers or rows were not closed"
    assert rss_mib() <= rss + 150
    assert settled_threads(runner) <= threads, [t.name for t in threading.enumerate()]
    # a shared pool grows a thread when work arrives with none idle, at any time (a clean-clone CI run once had
    # one more after the warm-up than before), never past its size
    pools = [t for t in threading.enumerate() if is_pool_thread(t)]
    assert len(pools) <= sum(pool._max_workers for pool in execution._shared.values())
    # and everything still answers
    explorer.tabs.selected_index = TAB_TITLES.index("Similarity")
    explorer.similarity.clear.click()
    click(m, lon0, lat0)
    assert "<b>1.00</b>" in explorer.similarity.readout.value
    assert explorer.layers.value  # the layer list shows the layers that are on the map
    assert len(explorer.layers.children) == len(explorer.layers.value)
    # closed, as a test's own work should be: the runner is the test's (an Explorer leaves a runner it was given
    # open), and its idle trim, in a timer's thread without a loop, would outlive the test by up to IDLE_TRIM_S and
    # be counted by the next test in this worker
    explorer.close()
    runner.close()


#: A visit's interactions, and what the visitor's kernel may hold after them once idle (issue 22: a kernel grew
#: from 322 MB to 776 MB over 300, with GDAL's block cache allowed 512 MB and the engine keeping three full views'
#: embeddings; the goal is 450 MB), and straight after the last one (818 MB before the caches were bounded; about
#: 150 MB of it is scikit-learn and SciPy, imported by the first k-means or classification). The busy figure also
#: counts freed pages not yet trimmed, which depend on which thread's arena freed them: 469 MB on a quiet machine,
#: 522-564 MB on loaded ones; that bound is there to catch caches that are not bounded, as the growth bound is.
#: The visit runs in a process of its own (``soak_kernel``): whatever tests ran before in this worker is not in
#: it. Measured on 2026-12-07 (2-core AMD EPYC, load 5-19 from other runs): 404-406 MB once idle in four runs
#: (alone, in a loaded pytest-xdist worker, after heavy tests in the same worker), of which 123 MB are the
#: libraries' mapped pages (RssFile) and about 281 MB the kernel's own (RssAnon); busy 522-559 MB. Two CI runs read
#: 452-456 MB idle (start 170 MB, against 141-148 here) with the visit in a process of its own too, its jobs
#: inline; that way measures 397-400 MB here, and their extra 45 MB was not reproduced (see the README's "Memory
#: per kernel").
#: The clean-clone CI run of the same code, later that day, read 461.8 MB idle: its kernel's own memory (RssAnon)
#: 284 MB as here, but 177 MB of the libraries' mapped pages (RssFile) against 123 MB here. Those pages are the
#: shared libraries' (the same for every kernel of a hub, counted once in its memory); how many of them a process has
#: mapped depends on how the page cache holds the freshly installed files, not on the visit: Linux 6.18 keeps files
#: just written (a fresh clone's venv) in large folios and maps a whole folio per fault. A fresh venv read 130.9 MB of
#: RssFile over 20 interactions, this checkout's 93.0, the fresh one again 92.5 once its cached pages were dropped
#: (see the README's "Memory per kernel"). So the kernel's own
#: memory is held to 300 MB, and the whole RSS to 470 MB: issue 22's 450 MB is met here, not in CI's fresh clone.
#: The busy RSS carries the same extra library pages there: 586.6 and 614.8 MB in two clean-clone runs (522-559 here),
#: so it is held to 650 MB; the growth bound below does not count them (they are there from the start).
VISIT_INTERACTIONS, VISIT_MAX_RSS_MB, VISIT_MAX_ANON_MB, BUSY_MAX_RSS_MB = 300, 470, 300, 650
#: Once every kind of interaction has happened (by the 100th), a bounded kernel stops growing: what it holds once
#: trimmed, at 200 and at the end, may exceed what it held at 100 by no more than this (measured trimmed: 413, 408
#: and 402 MB at 100, 200 and the end; busy: +9 MB from 100 to 200). Trimmed, since the busy RSS also counts freed
#: pages not yet handed back: compared busy to busy, a clean-clone CI run read +47 MB (550 at 100, 597 busy at the
#: end) for a kernel that then held 460 MB once idle.
GROWTH_AFTER_100_MB = 40


def test_a_visit_of_300_interactions_on_the_sample_stays_bounded(tmp_path):
    """A fresh process, as a visitor's kernel: the explorer on the bundled sample, its work in the shared pools and
    its results on an asyncio loop, 300 mixed interactions (pans of a browser-sized view, similarity, AOI, time,
    classification clicks, years, bands, thresholds, k-means) sent as the frontend sends them, each waited out as a
    person waits for the map. Its RSS once idle (the runner's trim) is what a hub pays per visitor."""
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
    # nor a word at its end: ipywidgets closes what is left in any order, a panel after its map (fixed 2026-12-07)
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    print(report)
    assert report["end"] <= VISIT_MAX_RSS_MB, report
    assert report["end_RssAnon"] <= VISIT_MAX_ANON_MB, report
    assert report["busy_end"] <= BUSY_MAX_RSS_MB, report
    assert max(report["200_trimmed"], report["end"]) - report["100_trimmed"] <= GROWTH_AFTER_100_MB, report


#: Issue 19's measure: closing and building the Explorer again this many times leaves nothing alive.
REBUILDS = 50
#: One rebuild in this many waits for the map to be drawn and picks a similarity reference before closing; the
#: others close while their first products are still computing, so that path is taken too (and the test stays
#: short: a settled rebuild reads a view, about 0.4 CPU s on the sample, a bare one builds only widgets).
SETTLE_EVERY = 10


async def until(condition, seconds: float = 60.0) -> None:
    """Let the loop run (results of background work come back on it) until ``condition()`` holds."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), seconds)


async def drained() -> None:
    """Every shared pool idle and the loop's pending callbacks run: a barrier taking every worker of a pool at once
    proves that nothing submitted before it is still running there."""
    for pool in list(execution._shared.values()):
        barrier = threading.Barrier(pool._max_workers)
        await asyncio.gather(*(asyncio.wrap_future(pool.submit(barrier.wait)) for _ in range(pool._max_workers)))
    for _ in range(20):  # results handed back meanwhile (dropped: their jobs were cancelled)
        await asyncio.sleep(0.005)


def names(m) -> set[str]:
    return {layer.name for layer in m.layers}


async def use_and_close(explorer: Explorer, settle: bool) -> list[weakref.ref]:
    """Optionally draw the first layers and pick a similarity reference, then close; weak references to what the
    explorer was made of, every one of which must die."""
    if settle:
        await until(lambda: "RGB composite" in names(explorer.map))
        explorer.tabs.selected_index = TAB_TITLES.index("Similarity")
        click(explorer.map, *explorer.state.source.footprint.center_lonlat)
        await until(lambda: {"Similarity", "Similarity references"} <= names(explorer.map))
    parts = [explorer, explorer.state, explorer.map, explorer.runner, explorer.layers, explorer.tabs]
    parts += [p for p in vars(explorer).values() if isinstance(p, Panel)]
    refs = [weakref.ref(x) for x in parts]
    explorer.close()
    return refs


def live_threads(wait: float = 1.0) -> set[threading.Thread]:
    """The threads alive, once the ones just told to stop have stopped (a cancelled timer ends within ms; one left
    waiting would hold its callback, and all it reaches, for its whole delay), each given ``wait`` seconds."""
    alive: set[threading.Thread] = set()
    for _ in range(5):  # again while threads appear meanwhile (a pool thread finishing a closed explorer's work)
        listed = set(threading.enumerate())
        for thread in listed:
            # waiting for a shared pool's thread to end only ever timed out, 1 s each (40 of this test's 50 s): they
            # are compared by identity below instead
            if thread is not threading.current_thread() and not is_pool_thread(thread):
                thread.join(timeout=wait)
        # a thread that has just ended may still be listed for an instant (seen under load): it holds nothing
        alive = {thread for thread in threading.enumerate() if thread.is_alive()}
        if alive <= listed:
            break
    return alive


def test_closing_and_rebuilding_the_explorer_50_times_leaves_nothing_alive():
    """A notebook cell showing ``Explorer()`` run again and again, as in a kernel: the widgets' work runs in the
    shared pools and comes back on an asyncio loop. Each closed Explorer, with its state, map, runner and panels,
    must be garbage once collected: no widget left open, no observer, flow or helper keeping it, no thread."""
    source = sample_source()

    async def soak() -> tuple[list[weakref.ref], tuple, tuple]:
        await use_and_close(Explorer(source), settle=True)  # warm up: imports, the shared pools, caches
        await drained()
        # timers an earlier test in this process left waiting (an idle trim, IDLE_TRIM_S) end first: one such was
        # counted here and gone at the end in a pytest-xdist worker; this test's own are given 1 s below
        before = (live_widgets(), len(Flow._flows)), live_threads(wait=IDLE_TRIM_S + 5)
        refs = []
        for i in range(REBUILDS):
            refs += await use_and_close(Explorer(source), settle=i % SETTLE_EVERY == 0)
        await drained()
        return refs, before, ((live_widgets(), len(Flow._flows)), live_threads())

    refs, (counts_before, threads_before), (counts_after, threads_after) = asyncio.run(soak())
    gc.collect()
    alive = [type(r()).__name__ for r in refs if r() is not None]
    assert not alive, f"{len(alive)} closed parts still alive: {sorted(set(alive))}"
    assert counts_after == counts_before, "(live widgets, flows) before and after"
    left = [getattr(t, "function", t.name) for t in threads_after - threads_before]  # a Timer names its callback
    assert threads_after == threads_before, f"threads left: {left}"


def state_observers(state) -> int:
    return sum(len(handlers) for by_type in state._trait_notifiers.values() for handlers in by_type.values())


def test_explorers_on_a_state_and_map_that_outlive_them_leave_both_as_they_were():
    """Explorers built around the user's own state and map, used and closed: the state's observers, the flow's
    subscriptions, the map's layers, controls and click handlers, the layer stack's slots and the draw tool's users
    are those from before the first one, and no widget stays open."""
    source = sample_source()
    state, m = ExplorerState(source), make_map(source)
    Flow.of(state).track(m, view_of)  # the flow's own watch of the map stays: it is the state's, not an explorer's

    def seen() -> tuple:
        flow, stack, tool = Flow.of(state), LayerStack.of(m), DrawTool.of(m)
        return (
            state_observers(state), {n: len(u) for n, u in flow._updates.items() if u},
            [layer.name for layer in m.layers], [type(c).__name__ for c in m.controls],
            len(m._interaction_callbacks.callbacks), len(stack.slots), sorted(tool._users),
        )  # fmt: skip

    async def soak() -> tuple:
        before = seen()
        await use_and_close(Explorer(state=state, map=m), settle=True)
        await drained()
        widgets = live_widgets()
        for i in range(REBUILDS // 5):
            await use_and_close(Explorer(state=state, map=m), settle=i % 2 == 0)
        await drained()
        return before, widgets, seen(), live_widgets()

    before, widgets_before, after, widgets_after = asyncio.run(soak())
    assert after == before
    assert widgets_after == widgets_before
