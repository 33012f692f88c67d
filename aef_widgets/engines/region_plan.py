"""Before a region search: the region's size, an estimate of what the search will read and how long it will take,
and whether the engine can do it at all; then the search itself on the engine the explorer runs.

**The estimate is an estimate**, derived from the region's pixels (at 10 m and at the coarse level) and rates
measured by the benchmark "12. Region search" (README, 2026-12-07, 8,192 x 8,192 px written like a release file,
2 shared cores, file in the page cache): the 10 m read was 2,486 MB (about 37 bytes a pixel: int8 embeddings
compressed), read and scored at about 17 MB/s (148 s; the coarse-to-fine search 211 MB in 11.5 s, the same
rate); coarse-to-fine read the region at 80 m and 5 of its 64 tile positions at 10 m. A coarse-to-fine search reads
at 10 m what its coarse pass cannot rule out, which depends on the references: the estimate gives the measured
share (5/64) and says what reading everything would cost. Over HTTP (the public release) the network, not the
disk, sets the time. On Earth Engine the search is one request computed server-side: only its answer travels.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from ..core.aoi import AOI
from ..core.errors import AOIError, TooLargeError, UsageError
from ..core.place import parse_place
from .base import Engine, Progress
from .region_coarse import COARSE_FACTOR
from .region_search import _streaming, check_region_size, find_similar, region_grid
from .workflows import executor_width

if TYPE_CHECKING:
    import geopandas

#: Bytes a 10 m pixel takes on disk in the release's encoding (int8, ZSTD): 2,486 MB for 8,192² px, measured.
BYTES_PER_PX = 2486e6 / 8192**2
#: Bytes a second read and scored, measured on 2 shared cores (the exact search and coarse-to-fine alike).
BYTES_PER_S = 2486e6 / 148
#: Threads that rate was measured with: a Dask cluster with more shares the work among them.
MEASURED_THREADS = 2
#: Share of the region coarse-to-fine read at 10 m in the benchmark (5 of 64 tile positions).
TYPICAL_FINE_SHARE = 5 / 64
#: Bytes of one match in an Earth Engine answer (a GeoJSON point and its score).
EE_BYTES_PER_MATCH = 200


@dataclass(frozen=True)
class SearchEstimate:
    """What a search is expected to read (bytes) and take (seconds): typically, and at most. An estimate."""

    bytes_typical: float
    bytes_most: float
    seconds_typical: float | None  # None: not known here (Earth Engine's own time)
    seconds_most: float | None

    def __str__(self) -> str:
        read = _bytes(self.bytes_typical)
        if self.bytes_most > self.bytes_typical * 1.05:
            read += f" (up to {_bytes(self.bytes_most)})"
        if self.seconds_typical is None:
            return f"about {read} sent back; Earth Engine's time, one request"
        took = _seconds(self.seconds_typical)
        if self.seconds_most is not None and _seconds(self.seconds_most) != took:  # not "under a second (up to ...)"
            took += f" (up to {_seconds(self.seconds_most)})"
        return f"about {read} read, {took}"


def estimate_search(pixels: int, *, exact: bool, factor: int = COARSE_FACTOR, threads: int = MEASURED_THREADS):
    """The estimate for a local search of ``pixels`` 10 m pixels (``threads`` reading at once); pure arithmetic."""
    full = pixels * BYTES_PER_PX
    coarse = full / factor**2
    typical = full if exact else coarse + TYPICAL_FINE_SHARE * full
    most = full if exact else coarse + full
    speed = BYTES_PER_S * max(1, threads) / MEASURED_THREADS
    return SearchEstimate(typical, most, typical / speed, most / speed)


def estimate_search_ee(top: int) -> SearchEstimate:
    """The estimate for Earth Engine: one answer of ``top`` points; the time is Earth Engine's."""
    size = top * EE_BYTES_PER_MATCH
    return SearchEstimate(size, size, None, None)


@dataclass(frozen=True)
class SearchPlan:
    """A region to search, its size, the engine's estimate, and why the engine refuses it (empty: it does not)."""

    region: AOI
    area_km2: float
    width_px: int
    height_px: int
    resolution: str  # in words: "10 m"
    where: str  # "in this process", "on your executor (8 threads)", "on Earth Engine"
    estimate: SearchEstimate
    refusal: str = ""
    note: str = ""  # what the pixels are, when not the whole region's

    def __str__(self) -> str:
        size = f"{_area(self.area_km2)}, {self.width_px:,} x {self.height_px:,} px at {self.resolution}{self.note}"
        if self.refusal:
            return f"{size}. Too large to search {self.where}: {self.refusal}"
        return f"{size}; {self.where}: {self.estimate} (an estimate)"


def plan_search(engine: Engine, region: AOI, *, exact: bool = False, top: int = 100) -> SearchPlan:
    """The plan of a search of ``region`` on ``engine`` (a local engine, with its executor, or Earth Engine),
    refused in words where ``find_similar`` would refuse it for its size. Reads file headers at most."""
    source = engine.source
    if on_earth_engine(source):  # its pixels are the region's at its resolution, scored server-side
        west, south, east, north = region.bounds
        metres_per_degree = math.pi * 6_371_008.8 / 180
        wide = (east - west) * metres_per_degree * math.cos(math.radians((south + north) / 2))
        width, height = (max(1, round(m / source.resolution)) for m in (wide, (north - south) * metres_per_degree))
        return SearchPlan(region, region.area_km2, width, height, f"{source.resolution:g} m", "on Earth Engine",
                          estimate_search_ee(top))  # fmt: skip
    executor: Executor | None = getattr(engine, "executor", None)
    source = _streaming(source)
    grid = region_grid(source, region)
    threads = executor_width(executor) if executor is not None else MEASURED_THREADS
    where = "in this process" if executor is None else f"on your executor ({threads} threads)"
    estimate = estimate_search(grid.width * grid.height, exact=exact, threads=threads)
    plan = SearchPlan(region, region.area_km2, grid.width, grid.height, grid.resolution_text, where, estimate,
                      note=" where the source has data")  # fmt: skip
    try:
        if exact:
            check_region_size(grid, executor, "searching every 10 m pixel")
        else:
            coarse = source.grid(region, resolution=grid.resolution * COARSE_FACTOR)
            check_region_size(coarse, executor, "the coarse pass")
    except TooLargeError as e:
        return replace(plan, refusal=str(e))
    return plan


def widened(bounds: tuple[float, float, float, float], n: float) -> AOI:
    """A box ``n`` times as wide and as tall as ``bounds`` (degrees: a view), around its centre; cut at the
    poles' Web Mercator limit, and at the world's width. Across the antimeridian it stays whole (``AOI`` splits it
    there), and a view Leaflet reports past 180 degrees (the map panned a world east or west) is its own place."""
    west, south, east, north = bounds
    cx, cy, half_w, half_h = (west + east) / 2, (south + north) / 2, n * (east - west) / 2, n * (north - south) / 2
    cx = (cx + 180.0) % 360.0 - 180.0
    west, east = (-180.0, 180.0) if half_w >= 180 else (cx - half_w, cx + half_w)
    return AOI.from_bounds(west, max(-85.0, cy - half_h), east, min(85.0, cy + half_h))


def chosen_region(
    kind: str, aoi: AOI | None, view: tuple[float, float, float, float] | None, factor: float, box: str
) -> AOI:  # fmt: skip
    """The region a user chose: ``kind`` "aoi" (the AOI drawn), "view" (the view's bounds ``factor`` times wider
    and taller) or "box" (typed as "west, south, east, north"); ``AOIError``/``UsageError`` in words if none."""
    if kind == "aoi":
        if aoi is None:
            raise UsageError("no AOI is drawn: draw one in the AOI tab, or choose the view or a box")
        return aoi
    if kind == "view":
        if view is None:
            raise UsageError("the map has no view yet")
        return widened(view, factor)
    place = parse_place(box)
    if place.is_point:
        raise AOIError("a box needs four numbers: west, south, east, north (degrees)")
    return AOI.from_bounds(*place.bounds)


def run_search(
    engine: Engine,
    region: AOI,
    year: int,
    positives: np.ndarray | Sequence,
    negatives: np.ndarray | Sequence = (),
    *,
    top: int = 100,
    min_distance_m: float = 0,
    exact: bool = False,
    progress: Progress | None = None,
) -> geopandas.GeoDataFrame:
    """``find_similar`` on the engine's source, on its executor (a Dask cluster's) when it has one: Earth Engine
    for an ``EarthEngineSource``, where ``progress`` is told only the start and the end (one request)."""
    report = progress or (lambda fraction, message: None)
    remote = on_earth_engine(engine.source)
    if remote:  # one request: a cancel stops what comes after it, and its answer is dropped
        report(0.0, "searching on Earth Engine (one request)")
    frame = find_similar(engine.source, region, year, positives, negatives, top=top, min_distance_m=min_distance_m,
                         exact=exact, executor=getattr(engine, "executor", None), progress=report)  # fmt: skip
    if remote:
        report(1.0, str(frame.attrs["search"]))
    return frame


def on_earth_engine(source: object) -> bool:
    """Whether a source is searched on Earth Engine (asked without importing ``ee``)."""
    ee_sources = sys.modules.get("aef_widgets.sources.earthengine")
    return ee_sources is not None and isinstance(source, ee_sources.EarthEngineSource)


def _bytes(n: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= size:
            return f"{n / size:,.{0 if n >= 10 * size else 1}f} {unit}"
    return f"{n:,.0f} bytes"


def _area(km2: float) -> str:
    # a field-sized region is hectares with its digits, not "0.0 km²"
    return f"{km2:,.1f} km²" if km2 >= 1 else f"{km2 * 100:.3g} ha"


def _seconds(s: float) -> str:
    if s < 1:
        return "under a second"
    if s < 90:
        return f"{s:,.0f} s"
    if s < 5400:
        return f"{s / 60:,.0f} min"
    return f"{s / 3600:,.1f} h"
