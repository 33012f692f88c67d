"""Workloads 1 and 4: clustering the classic AOI against the classic workflow, and how the streaming path scales.

Every run is a fresh process (``child.py``), so each has its own peak memory and no run warms another's caches;
runs alternate baseline and ours, so a burst of load on a shared machine hits both. Files are read from the OS
page cache in every run (``warm_page_cache``), as on a re-run of a notebook.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.windows import Window
from sklearn.metrics import adjusted_rand_score

from .data import Inputs
from .measure import linear_fit, median, run_child, warm_page_cache
from .settings import Settings

RUNS = {
    "classic": ("classic", "aoi_float64", "classic: whole float64 file in memory, sklearn KMeans"),
    "library_float64": ("library", "aoi_float64", "aef-widgets cluster_grid, same float64 file"),
    "library_int8": ("library", "aoi_int8", "aef-widgets cluster_grid, int8 COG of the same AOI"),
}


def cluster_aoi(inputs: Inputs, settings: Settings, scratch: Path) -> dict[str, Any]:
    """Wall time and peak memory of each path on the AOI, the ratios against the classic path, and checks that
    the paths agree."""
    warm_page_cache([inputs.aoi_float64, inputs.aoi_int8])
    reports: dict[str, list[dict[str, Any]]] = {name: [] for name in RUNS}
    for _ in range(settings.cluster_repeats):
        for name, (method, attr, _) in RUNS.items():
            reports[name].append(run_child([method, str(getattr(inputs, attr)), str(scratch / f"{name}.tif")]))
    rows, cols = inputs.aoi
    summary = {name: _summarise(runs) | {"what": RUNS[name][2]} for name, runs in reports.items()}
    base = summary["classic"]
    for name in ("library_float64", "library_int8"):
        summary[name]["speedup"] = base["seconds"] / summary[name]["seconds"]
        summary[name]["memory_fraction"] = summary[name]["peak_rss_mib"] / base["peak_rss_mib"]
    return {
        "aoi_px": [rows, cols],
        "megapixels": rows * cols / 1e6,
        "float64_file_gb": inputs.aoi_float64.stat().st_size / 1e9,
        "int8_file_gb": inputs.aoi_int8.stat().st_size / 1e9,
        "runs": summary,
        "agreement": _agreement(scratch),
        "reread_vs_reencode": reread_vs_reencode(inputs),
    }


def _summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "seconds": median([r["seconds"] for r in runs]),
        "seconds_all": [r["seconds"] for r in runs],
        "cpu_seconds": median([r["cpu_seconds"] for r in runs]),
        "peak_rss_mib": median([r["peak_rss_mib"] for r in runs]),
        "rss_after_imports_mib": median([r["rss_after_imports_mib"] for r in runs]),
        "valid_pixels": runs[0]["valid_pixels"],
    }


def _agreement(scratch: Path) -> dict[str, Any]:
    """Ours on float64 and on int8 must give identical labels (same pixels, same sample); against the classic
    path, which samples other pixels, the partitions should still match (adjusted Rand index near 1)."""
    labels = {}
    for name in RUNS:
        with rasterio.open(scratch / f"{name}.tif") as ds:
            labels[name] = ds.read(1)
    ours, int8, classic = labels["library_float64"], labels["library_int8"], labels["classic"]
    valid = ours != 255
    rng = np.random.default_rng(0)
    pick = rng.choice(np.flatnonzero(valid.ravel()), min(200_000, int(valid.sum())), replace=False)
    return {
        "float64_equals_int8": bool(np.array_equal(ours, int8)),
        "nodata_agrees_with_classic": bool(np.array_equal(~valid, classic == 0)),
        "adjusted_rand_vs_classic": float(adjusted_rand_score(classic.ravel()[pick], ours.ravel()[pick])),
    }


def reread_vs_reencode(inputs: Inputs, chunks: int = 6) -> dict[str, float]:
    """CPU ms per 256 x 256 chunk of the float64 file: reading it again, against keeping it from the first pass as
    int8 (quantize, check it is lossless, dequantize for the second pass). Decides whether the cluster path keeps
    a compact copy between its passes."""
    from aef_widgets import open_source
    from aef_widgets.core.quantization import DEQUANTIZE_LUT, quantize
    from aef_widgets.sources.base import subgrid

    source = open_source({2024: inputs.aoi_float64})
    grid = source.grid()
    rows, cols = range(0, grid.height - 255, 256), range(0, grid.width - 255, 256)
    windows = [Window(c, r, 256, 256) for r in rows for c in cols]
    read_ms, raw_ms, encode_ms, decode_ms, lossless = [], [], [], [], True
    for window in windows[:: max(1, len(windows) // chunks)][:chunks]:
        start = time.process_time()
        field = source.read_window(subgrid(grid, window), 2024)
        read_ms.append(1e3 * (time.process_time() - start))
        raw_ms.append(_raw_read_cpu_ms(inputs.aoi_float64, window))
        start = time.process_time()
        codes = quantize(np.where(field.mask[..., None], field.values, np.float32(0)))
        back = DEQUANTIZE_LUT[codes.view(np.uint8)]
        lossless &= bool(np.array_equal(back[field.mask], field.values[field.mask]))
        encode_ms.append(1e3 * (time.process_time() - start))
        start = time.process_time()
        np.take(DEQUANTIZE_LUT, codes.view(np.uint8), mode="wrap")
        decode_ms.append(1e3 * (time.process_time() - start))
    return {
        "reread_cpu_ms": median(read_ms),
        "raw_decode_cpu_ms": median(raw_ms),
        "reencode_and_check_cpu_ms": median(encode_ms),
        "dequantize_cpu_ms": median(decode_ms),
        "lossless": lossless,
        "int8_copy_mib_per_mpx": 64.0,
    }


def _raw_read_cpu_ms(path: Path, window: Window) -> float:
    """CPU ms of the floor any reader of the float64 file pays: its float64 bands decoded as stored (band-first,
    no conversion), with one GDAL thread as in the classic path. The cluster path decodes the file twice."""
    with rasterio.Env(GDAL_NUM_THREADS="1"), rasterio.open(path) as ds:
        start = time.process_time()
        ds.read(window=window)
        return 1e3 * (time.process_time() - start)


def scaling(inputs: Inputs, settings: Settings, scratch: Path) -> dict[str, Any]:
    """The streaming cluster path on square AOIs of the int8 scene: time should grow linearly, memory stay flat."""
    warm_page_cache([inputs.scene_int8])
    points = []
    for side in settings.scaling_sides:
        runs = [
            run_child(["library", str(inputs.scene_int8), str(scratch / f"scaling_{side}.tif"), str(side)])
            for _ in range(max(1, settings.cluster_repeats))
        ]
        summary = _summarise(runs)
        points.append({"side": side, "megapixels": side * side / 1e6, **summary})
    mpx = [p["megapixels"] for p in points]
    fit = linear_fit(mpx, [p["seconds"] for p in points])
    peaks = [p["peak_rss_mib"] for p in points]
    above = [p["peak_rss_mib"] - p["rss_after_imports_mib"] for p in points]
    return {
        "points": points,
        "time_fit": fit,
        "time_ratio_largest_to_smallest": points[-1]["seconds"] / points[0]["seconds"],
        "size_ratio_largest_to_smallest": mpx[-1] / mpx[0],
        "peak_rss_ratio_largest_to_smallest": peaks[-1] / peaks[0],
        "rss_above_imports_mib": above,
        "memory_slope_mib_per_mpx": linear_fit(mpx, peaks)["slope"],
    }
