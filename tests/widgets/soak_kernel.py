"""A visitor's session in a fresh process, as a kernel lives it: the explorer on the bundled sample, then mixed
interactions sent as the frontend sends them; prints the process's RSS (MiB) at the start and at checkpoints, as JSON.

Run as ``python -m tests.widgets.soak_kernel 300`` (the soak test does). A process of its own measures what one
visitor's kernel holds, not what the test process held before. As in a kernel, the explorer's work runs in the
shared pools and its results come back on an asyncio loop, which handles the frontend's messages; after each one the
visitor waits for the app to settle (every job done, nothing waiting to start), as a person waits to see the map.
``busy_end`` is the RSS right after the last interaction, ``end`` after the pause in which the job runner trims the
heap (as a real kernel does once idle); each checkpoint's ``<i>_trimmed`` is its RSS after such a trim.
``--inline`` runs every job at once in the main thread instead (the soak's way before 2026-12-07; kept to compare).
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import sys
import tempfile
import threading
import time

#: Where the RSS is reported, besides the start and the end.
CHECKPOINTS = (50, 100, 200)


def status_mib(*fields: str) -> dict[str, float]:
    """Fields of /proc/self/status in MiB (``VmRSS``: the RSS; ``RssAnon``: the heap and arrays; ``RssFile``: mapped
    files, the libraries mostly)."""
    with open("/proc/self/status") as status:
        lines = dict(line.split(":", 1) for line in status if ":" in line)
    return {field: int(lines[field].split()[0]) / 1024 for field in fields}


def rss_mib() -> float:
    return status_mib("VmRSS")["VmRSS"]


async def settled(runners: list) -> None:
    """Every job of the explorer's runners done and applied, and nothing waiting to start: each delayed start (a
    debounce) waiting on the loop is waited out, then every shared pool is drained (a barrier taking all its
    workers) and the loop's callbacks run, until no job started meanwhile. (It slept out the longest debounce after
    every interaction before 2026-12-07, a minute of a 300-interaction visit spent waiting for nothing.)"""
    from aef_widgets.core import execution
    from aef_widgets.widgets.nodes import VIEW_DEBOUNCE_S
    from aef_widgets.widgets.thresholded_layers import THRESHOLD_DEBOUNCE_S

    horizon = max(VIEW_DEBOUNCE_S, THRESHOLD_DEBOUNCE_S) + 0.02  # a later due after this is the idle trim's
    while True:
        started = sum(r._activity for r in runners)
        while due := starts_due(runners, horizon):
            await asyncio.sleep(max(due) - time.monotonic() + 0.005)
        for pool in list(execution._shared.values()):
            barrier = threading.Barrier(pool._max_workers)
            await asyncio.gather(*(asyncio.wrap_future(pool.submit(barrier.wait)) for _ in range(pool._max_workers)))
        for _ in range(5):  # results handed to the loop meanwhile
            await asyncio.sleep(0)
        quiet = sum(r._activity for r in runners) == started and not any(r._running for r in runners)
        if quiet and not starts_due(runners, horizon):
            return


def starts_due(runners: list, horizon: float) -> list[float]:
    """When the callbacks waiting on the runners' loop within ``horizon`` seconds are due (debounced starts)."""
    now = time.monotonic()
    return [w.due for r in runners for w in list(r._waiting) if w.pending and w.due - now <= horizon]


async def visit(interactions: int, inline: bool, export_dir: str) -> dict:
    from aef_widgets.core.memory import release_freed_memory
    from aef_widgets.explorer import TAB_TITLES, Explorer
    from aef_widgets.sources.sample import sample_source
    from aef_widgets.widgets import JobRunner
    from aef_widgets.widgets.jobs import IDLE_TRIM_S
    from tests.widgets.frontend import click, draw, rectangle, send_state

    source = sample_source()
    runner = JobRunner.inline() if inline else None  # None: the explorer's own, on this loop and the shared pools
    explorer = Explorer(source, runner=runner, export_dir=export_dir)
    m, state = explorer.map, explorer.state
    runners = [explorer.runner, explorer.clusters.task_runner]
    await settled(runners)
    west, south, east, north = source.footprint.lonlat_bounds()
    lon0, lat0 = (west + east) / 2, (south + north) / 2
    rng = random.Random(0)
    gc.collect()
    report = {"start": rss_mib()}
    started = time.process_time()

    def some_point() -> tuple[float, float]:
        return rng.uniform(west, east), rng.uniform(south, north)

    def tab(title: str) -> None:
        explorer.tabs.selected_index = TAB_TITLES.index(title)

    def pan() -> None:  # a view about the size of a browser's map, somewhere over the data
        lon, lat = some_point()
        dx, dy = (east - west) / 4, (north - south) / 5
        bounds = [[lat - dy, lon - dx], [lat + dy, lon + dx]]
        send_state(m, {"bounds": bounds, "pixel_bounds": [[0, 0], [1000, 800]], "center": [lat, lon]})

    def similarity() -> None:
        tab("Similarity")
        click(m, *some_point())
        if len(state.probe_points) > 3:
            explorer.similarity.clear.click()

    def aoi() -> None:
        tab("AOI")
        if state.aoi is None:
            w, s = rng.uniform(west, lon0), rng.uniform(south, lat0)
            draw(explorer.aoi.draw_control, rectangle(w, s, w + (east - west) / 4, s + (north - south) / 4))
        else:
            explorer.aoi.clear.click()

    def time_series() -> None:
        tab("Time")
        click(m, *some_point())

    def classify() -> None:
        tab("Classify")
        explorer.classify.active.value = rng.choice([0, 1])
        click(m, *some_point())
        if len(explorer.classify.value) > 12:
            explorer.classify.clear_button.click()

    actions = [
        pan, similarity, aoi, time_series, classify,
        lambda: setattr(explorer.year.dropdown, "value", rng.choice(source.years)),
        lambda: setattr(explorer.bands.red, "value", rng.choice(["A01", "A05", "A30"])),
        lambda: setattr(state, "similarity_threshold", rng.choice([0.5, 0.8, 0.9])),
        lambda: setattr(state, "change_threshold", rng.choice([0.1, 0.3])),
        lambda: setattr(explorer.change.show_map, "value", not explorer.change.show_map.value),
    ]  # fmt: skip

    for i in range(1, interactions + 1):
        (explorer.clusters.run.click if i % 25 == 0 else rng.choice(actions))()
        await settled(runners)
        if i in CHECKPOINTS:
            report[str(i)] = rss_mib()
            # and what the kernel holds, as the runner's idle trim leaves it: freed pages not yet handed back vary
            # with the thread (arena) that freed them, by tens of MB between runs of the same visit
            release_freed_memory()
            report[f"{i}_trimmed"] = rss_mib()
            cpu = time.process_time() - started
            print(i, report[str(i)], report[f"{i}_trimmed"], cpu, file=sys.stderr, flush=True)
    gc.collect()
    report["busy_end"] = rss_mib()  # straight after the last interaction
    report["cpu_s"] = time.process_time() - started
    # then the visitor pauses, and the runner hands back what its jobs freed once it has been idle (jobs.IDLE_TRIM_S)
    deadline = time.monotonic() + 2 * IDLE_TRIM_S + 1  # a trim planned during the last jobs is put off once
    while any(r._trim_planned for r in runners) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)  # the trim runs on this loop: once none is planned, each has run
    report["end"] = rss_mib()
    report.update({f"end_{k}": v for k, v in status_mib("RssAnon", "RssFile").items()})
    return report


def main(interactions: int, inline: bool = False) -> dict:
    with tempfile.TemporaryDirectory(prefix="aef-soak-") as export_dir:  # gone with the visit
        return asyncio.run(visit(interactions, inline, export_dir))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--inline"]
    print(json.dumps(main(int(args[0]) if args else 300, inline="--inline" in sys.argv)))
