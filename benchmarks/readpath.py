"""Workload 5: reading int8 COG windows, at full resolution and from overviews, in Mpx/s of output.

Every read goes through ``GeoTIFFSource.read_window``: decoding, dequantizing to float32 vectors and the nodata
mask included. The raw GDAL read of the same window (int8 codes, no decoding) is the floor for the file's format.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import rasterio
from rasterio.windows import Window

from aef_widgets import open_source
from aef_widgets.engines.workflows import CHUNK_BYTES, WORKERS, stream_grid
from aef_widgets.sources.base import subgrid
from aef_widgets.sources.gdal_env import GDAL_OPTIONS, decode_threads
from aef_widgets.sources.geotiff import POOLED_DECODE_THREADS

from .data import Inputs
from .measure import median, repeat, warm_page_cache
from .settings import Settings


def read_path(inputs: Inputs, settings: Settings) -> dict[str, Any]:
    path = inputs.aoi_int8
    warm_page_cache([path])
    source = open_source({2024: path})
    grid = source.grid()
    mpx = grid.width * grid.height / 1e6
    side = min(1024, grid.width, grid.height)
    window = Window(0, 0, side, side)
    times = max(settings.min_runs, settings.repeats)
    one = subgrid(grid, window)

    def stream(workers: int = WORKERS) -> None:
        for _ in stream_grid(source, grid, 2024, None, workers):
            pass

    def unsplit(threads: int | str) -> None:
        with decode_threads(threads):  # as if inside a pool: one read, decoded by GDAL's own threads
            source.read_window(one, 2024)

    def raw() -> None:
        with rasterio.Env(**GDAL_OPTIONS), rasterio.open(path) as ds:
            ds.read(window=window)

    rows: list[dict[str, Any]] = []

    def add(name: str, out_mpx: float, ground_mpx: float, seconds: float, how: str) -> None:
        rows.append(
            {"read": name, "out_mpx_per_s": out_mpx / seconds, "ground_mpx_per_s": ground_mpx / seconds, "how": how}
        )

    add("whole AOI, 10 m, streamed", mpx, mpx, median(repeat(stream, times)),
        f"stream_grid: {WORKERS} threads x {POOLED_DECODE_THREADS} GDAL threads, "
        f"{CHUNK_BYTES // 2**20} MiB chunks")  # fmt: skip
    add("whole AOI, 10 m, streamed by one thread", mpx, mpx, median(repeat(lambda: stream(1), times)),
        "stream_grid(workers=1): GDAL_NUM_THREADS=ALL_CPUS decodes")  # fmt: skip
    seconds = median(repeat(lambda: source.read_window(one, 2024), times))
    add(f"{side} x {side} window, 10 m", side * side / 1e6, side * side / 1e6, seconds,
        "read_window: bands of tile rows, one thread each")  # fmt: skip
    for threads in ("ALL_CPUS", 1):
        seconds = median(repeat(lambda threads=threads: unsplit(threads), times))
        add(f"{side} x {side} window, 10 m, GDAL_NUM_THREADS={threads}", side * side / 1e6, side * side / 1e6,
            seconds, "read_window in one piece, decoded by GDAL's threads")  # fmt: skip
    add(f"{side} x {side} window, 10 m, raw GDAL", side * side / 1e6, side * side / 1e6, median(repeat(raw, times)),
        "rasterio read of the int8 codes, no decoding: the format's floor")  # fmt: skip
    for factor in (2, 4, 8):
        coarse = source.grid(None, resolution=source.resolution * factor)
        seconds = median(repeat(lambda coarse=coarse: source.read_window(coarse, 2024), times))
        used = "overview" if factor in source.files[2024][0].overview_factors else "decimated full resolution"
        add(f"whole AOI, {10 * factor} m", coarse.width * coarse.height / 1e6, mpx, seconds, f"read_window from {used}")
    return {
        "file": path.name,
        "aoi_px": [grid.height, grid.width],
        "tile_px": source.files[2024][0].block,
        "overviews": list(source.files[2024][0].overview_factors),
        "gdal_options": {k: str(v) for k, v in GDAL_OPTIONS.items()},
        "pool": {
            "threads": WORKERS,
            "gdal_num_threads_per_thread": POOLED_DECODE_THREADS,
            "chunk_mib": CHUNK_BYTES // 2**20,
        },
        "reads": rows,
        "valid_fraction": float(np.mean(inputs.aoi_valid())),
    }
