"""Workload 2: click-to-overlay latency of the real SimilarityProbe on a 1024 x 1024 px view.

A map click is sent as the browser sends it (a custom comm message into the map); work runs inline
(``JobRunner.inline()``), so the time from the message to the moment the "Similarity" overlay on the map holds its
new image is everything a user waits for, minus the browser's drawing. Each click starts a new probe with one
reference, as after "Clear references" (the clearing is not timed).

Cold: the first click after opening the year (a new source, engine, widget and map, so no cached reads or
resamplers; the file itself is in the OS page cache), after one untimed click in the process. Cold from disk: the
same with the file's pages evicted. Warm: the following clicks on the same view, at other random pixels.
"""

from __future__ import annotations

import contextlib
import gc
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from pyproj import Transformer

from aef_widgets import open_source
from aef_widgets.analysis.similarity import similarity
from aef_widgets.rendering.overlay import continuous_overlay
from aef_widgets.rendering.view import MapView
from aef_widgets.widgets import ExplorerState, JobRunner, SimilarityProbe, make_map

from .data import Inputs
from .measure import evict_page_cache, median, p95, timed, warm_page_cache
from .settings import Settings

VIEW_PX = 1024
#: The competing load of the "other core busy" row: a separate process multiplying matrices with one BLAS thread
#: (a neighbour's notebook on a shared hub), one per core but the first.
SPIN = "import numpy as np\na = np.random.default_rng(0).random((512, 512))\nwhile True:\n    a = a @ a; a /= a.max()\n"


def send_click(m: Any, lon: float, lat: float) -> None:
    """What the browser sends when the map is clicked (as ``tests/widgets/frontend.py`` does)."""
    content = {"event": "interaction", "type": "click", "coordinates": [lat, lon]}
    m._handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})


def view_covering(source: Any, size: int = VIEW_PX) -> MapView:
    """A square view of ``size`` px whose width spans the data (Web Mercator pixels are square)."""
    west, south, east, north = source.footprint.lonlat_bounds()
    to_m = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    to_deg = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    (x0, x1), (y0, y1) = to_m.transform([west, east], [south, north])
    half = max(x1 - x0, y1 - y0) / 2
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    (w, e), (s, n) = to_deg.transform([cx - half, cx + half], [cy - half, cy + half])
    return MapView(w, s, e, n, size, size)


class LayerClock:
    """Notes the time whenever the named layer appears on the map or its url changes."""

    def __init__(self, m: Any, name: str) -> None:
        self.name = name
        self.updated_at: float | None = None
        self._watched: Any = None
        m.observe(self._layers_changed, names="layers")

    def _layers_changed(self, change: dict) -> None:
        layer = next((x for x in change["new"] if getattr(x, "name", None) == self.name), None)
        if layer is not None and layer is not self._watched:
            self._watched = layer
            layer.observe(self._url_changed, names="url")
            self.updated_at = time.perf_counter()

    def _url_changed(self, _change: dict) -> None:
        self.updated_at = time.perf_counter()


class Session:
    """A freshly opened year: source, state, map and SimilarityProbe, the view set to 1024 x 1024 px."""

    def __init__(self, inputs: Inputs) -> None:
        self.source = open_source({2024: inputs.aoi_int8})
        self.state = ExplorerState(self.source)
        self.map = make_map(self.source)
        self.probe = SimilarityProbe(self.state, map=self.map, runner=JobRunner.inline())
        self.state.view = view_covering(self.source)
        self.clock = LayerClock(self.map, "Similarity")
        #: CPU seconds of this process during the last click: the work it did, which the load does not change
        self.last_cpu = 0.0

    def click(self, lon: float, lat: float) -> tuple[float, float]:
        """(seconds until the Similarity overlay holds the new image, seconds until all the click's work ended)."""
        self.probe.value = []
        start, cpu = time.perf_counter(), time.process_time()
        send_click(self.map, lon, lat)
        end = time.perf_counter()
        self.last_cpu = time.process_time() - cpu
        if self.clock.updated_at is None or self.clock.updated_at < start:
            raise RuntimeError(f"the click drew no similarity layer: {self.probe.status.value}")
        return self.clock.updated_at - start, end - start


def probe_latency(inputs: Inputs, settings: Settings) -> dict[str, Any]:
    """Cold and warm click latencies, and where a warm click's time goes."""
    rng = np.random.default_rng(1)
    rows, cols = np.nonzero(inputs.aoi_valid())
    breakdown_points = max(3, settings.warm_clicks // 3)
    n = 2 * settings.warm_clicks + 2 * settings.cold_clicks + 2 + breakdown_points
    pick = rng.choice(len(rows), n, replace=False)
    points = iter(inputs.lonlat_of(rows[pick], cols[pick]).tolist())
    cold, cold_disk, evicted = [], [], False
    # untimed: first uses in the process (PROJ's database, matplotlib's colormaps, the PNG encoder) are the cost
    # of starting Python, paid once per kernel, not of opening a year (measured: they double the first click)
    _fresh_session(inputs).click(*next(points))
    for _ in range(settings.cold_clicks):
        session = _fresh_session(inputs)
        cold.append(session.click(*next(points))[0])
    for _ in range(max(1, settings.cold_clicks // 2)):
        session = _fresh_session(inputs)
        evicted = evict_page_cache(inputs.aoi_int8)
        cold_disk.append(session.click(*next(points))[0])
    # warm clicks read the file from the OS page cache, as cold ones do: the evictions above must not leave the
    # warm rows timing the disk instead (measured once: 128 ms a click just after an eviction, 36 ms cached)
    warm_page_cache([inputs.aoi_int8])
    warm, whole, warm_cpu = [], [], []
    for _ in range(settings.warm_clicks):
        latency, total = session.click(*next(points))
        warm.append(latency)
        whole.append(total)
        warm_cpu.append(session.last_cpu)
    busy, busy_cpu = [], []
    with competing_load() as processes:
        for _ in range(settings.warm_clicks):
            busy.append(session.click(*next(points))[0])
            busy_cpu.append(session.last_cpu)
    layer = next(x for x in session.map.layers if x.name == "Similarity")
    return {
        "view_px": [VIEW_PX, VIEW_PX],
        "field_px": list(session.state.engine.view_grid(session.state.view).shape),
        "overlay_url_kb": len(layer.url) / 1e3,
        "warm_ms": _stats(warm),
        "cold_ms": _stats(cold),
        "cold_from_disk_ms": _stats(cold_disk) | {"page_cache_evicted": evicted},
        "whole_click_warm_ms": _stats(whole),
        "warm_busy_ms": _stats(busy) | {"load_processes": processes},
        # CPU of the whole click (all threads of this process): tells a slow machine from a busy one
        "warm_cpu_ms": _stats(warm_cpu),
        "warm_busy_cpu_ms": _stats(busy_cpu),
        "warm_breakdown_ms": breakdown(session, [next(points) for _ in range(breakdown_points)]),
    }


@contextlib.contextmanager
def competing_load() -> Iterator[int]:
    """Keep every core but one busy with :data:`SPIN` processes for the block; yields how many run."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    env = os.environ | {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", SPIN], env=env) for _ in range(max(1, cores - 1))]
    try:
        time.sleep(0.5)  # started and spinning before the first click
        yield len(procs)
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def _fresh_session(inputs: Inputs) -> Session:
    gc.collect()  # the previous session's view field is garbage: free it before timing the next
    return Session(inputs)


def _stats(seconds: list[float]) -> dict[str, Any]:
    ms = [1e3 * s for s in seconds]
    return {"median": median(ms), "p95": p95(ms), "max": max(ms), "n": len(ms)}


def breakdown(session: Session, points: list[list[float]]) -> dict[str, float]:
    """Median ms of the steps of a warm click, called directly at the given points: the native-resolution read of
    the clicked pixel, the similarity of the cached view field, and colouring, resampling and PNG-encoding it."""
    engine, view = session.state.engine, session.state.view
    field, resampler = engine.view_field(2024, view)
    read, sim, draw = [], [], []
    for point in points:
        seconds, reference = timed(lambda point=point: session.source.sample([tuple(point)], 2024))
        read.append(seconds)
        seconds, values = timed(lambda reference=reference: similarity(field, reference))
        sim.append(seconds)
        draw.append(timed(lambda values=values: continuous_overlay(values, 0, 1, "viridis", resampler))[0])
    return {
        "read_clicked_pixel": 1e3 * median(read),
        "similarity": 1e3 * median(sim),
        "overlay_png": 1e3 * median(draw),
    }
