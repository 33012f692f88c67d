"""Workload 11: tables of embeddings. Zonal means of many field polygons over the int8 scene against exactextract
run directly on the same file (all 64 bands, its ``mean``), and points sampled as a table against one
``source.sample`` call per point.

The polygons are fields: rotated rectangles of 20 to 200 m a side at random places, about 100,000 over the full
suite's 4096 x 4096 px scene (the same density at other sizes), listed row by row from the north as a tiled field
layer would be. Each zonal run is a fresh process (its peak RSS its own VmHWM): ours (``zonal_embeddings``), ours on
a tenth of the polygons two ways (memory flat in their number?), and exactextract's ``exact_extract(file, GeoDataFrame,
"mean", strategy="raster-sequential")``, the faster of its two strategies here, reading the file through rasterio
(exactextract's own choice without GDAL's Python bindings). The two compute different
things from the same pixels (exactextract averages the stored int8 codes band by band; ours dequantises, makes each
vector unit length and renormalises the mean), so only their time and memory are compared.

"Memory flat in the number of polygons" is measured as the call's working memory: its peak RSS less the RSS before
it (imports and the input layer, which are the caller's) and less the table it returns (the frame's own bytes and
its geometries' WKB), which must grow with the rows. It is compared with a tenth of the polygons taken two ways: the
first tenth (the layer's northern strip: fewer and smaller chunks read, so it mixes the scene's area read with the
polygons' count) and every tenth polygon (the same chunks read: only the count changes), and given per polygon.
The raw peak ratio is kept beside it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from .data import Inputs
from .measure import median, run_child, warm_page_cache
from .settings import Settings

#: Polygons per Mpx of scene: 100,000 over 4096 x 4096 px.
POLYGONS_PER_MPX = 100_000 / (4096 * 4096 / 1e6)
#: exactextract's faster strategy on these files: feature by feature it read the pixel-interleaved tiles once per
#: band and polygon (measured on the sample, 300 fields: 34 s against 3.7 s raster by raster).
STRATEGY = "raster-sequential"
#: Points sampled one call at a time for the baseline rate (the table samples all of them).
PER_POINT_SAMPLE = 500


def field_polygons(bounds: tuple[float, float, float, float], n: int, seed: int = 0):
    """``n`` rotated rectangles (fields) inside ``bounds`` (UTM 16N), sorted north to south, west to east."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    left, bottom, right, top = bounds
    cx, cy = rng.uniform(left + 200, right - 200, n), rng.uniform(bottom + 200, top - 200, n)
    order = np.lexsort((cx, -np.floor(cy / 1000)))  # bands of 1 km from the north, west to east in each
    cx, cy = cx[order], cy[order]
    w, h, angle = rng.uniform(20, 200, n), rng.uniform(20, 200, n), rng.uniform(0, np.pi, n)
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) / 2
    dx, dy = corners[:, 0] * w[:, None], corners[:, 1] * h[:, None]
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    xs, ys = cx[:, None] + dx * cos - dy * sin, cy[:, None] + dx * sin + dy * cos
    rings = np.stack([xs, ys], axis=-1)
    return gpd.GeoDataFrame({"field": np.arange(n)}, geometry=shapely.polygons(rings), crs="EPSG:32616")


def tables(inputs: Inputs, settings: Settings, scratch: Path) -> dict[str, Any]:
    from aef_widgets import open_source, sample_points

    warm_page_cache([inputs.scene_int8])
    source = open_source({2024: inputs.scene_int8})
    grid = source.grid()
    mpx = grid.width * grid.height / 1e6
    n = max(100, round(mpx * POLYGONS_PER_MPX))
    fields = field_polygons(grid.bounds, n)
    every, tenth, spread = (scratch / f"fields{s}.parquet" for s in ("", "_tenth", "_every_tenth"))
    fields.to_parquet(every)
    fields.iloc[: n // 10].to_parquet(tenth)
    fields.iloc[::10].to_parquet(spread)
    runs = {
        "ours": run_child(["zonal", str(inputs.scene_int8), str(every)]),
        "ours_tenth": run_child(["zonal", str(inputs.scene_int8), str(tenth)]),
        "ours_every_tenth": run_child(["zonal", str(inputs.scene_int8), str(spread)]),
        "exactextract": run_child(["exactextract", str(inputs.scene_int8), str(every)]),
    }
    for r in runs.values():
        r["polygons_per_s"] = r["polygons"] / r["seconds"]
    ours, base = runs["ours"], runs["exactextract"]
    result: dict[str, Any] = {
        "scene_px": [grid.height, grid.width],
        "polygons": n,
        "zonal": runs,
        "time_vs_exactextract": ours["seconds"] / base["seconds"],
        "cpu_vs_exactextract": ours["cpu_seconds"] / base["cpu_seconds"],
        "peak_ratio_all_to_tenth": ours["peak_rss_mib"] / runs["ours_tenth"]["peak_rss_mib"],
    }
    for key in ("ours_tenth", "ours_every_tenth"):
        few = runs[key]
        result[f"working_ratio_all_to_{key[5:]}"] = ours["working_mib"] / few["working_mib"]
        extra = (ours["working_mib"] - few["working_mib"]) * 2**20 / (ours["polygons"] - few["polygons"])
        result[f"working_bytes_per_polygon_vs_{key[5:]}"] = extra
    result["points"] = _points(source, grid, n, settings, sample_points)
    return result


def _points(source, grid, n: int, settings: Settings, sample_points) -> dict[str, Any]:
    import geopandas as gpd

    rng = np.random.default_rng(1)
    left, bottom, right, top = grid.bounds
    xy = gpd.GeoSeries(gpd.points_from_xy(rng.uniform(left, right, n), rng.uniform(bottom, top, n)), crs="EPSG:32616")
    table = gpd.GeoDataFrame({"plot": np.arange(n)}, geometry=xy.to_crs(4326))
    lonlat = np.column_stack([table.geometry.x, table.geometry.y])
    k = min(PER_POINT_SAMPLE, n)
    table_s, table_cpu = [], []
    for _ in range(max(1, min(3, settings.repeats))):
        start, cpu = time.perf_counter(), time.process_time()
        out = sample_points(source, table, 2024)
        table_s.append(time.perf_counter() - start)
        table_cpu.append(time.process_time() - cpu)
    start = time.perf_counter()  # once: at about 10 points/s on random points it is the slow part of the workload
    singles = np.vstack([source.sample([tuple(p)], 2024) for p in lonlat[:k]])
    one_s = [time.perf_counter() - start]
    from aef_widgets.core.bands import BAND_NAMES

    agree = bool(np.array_equal(out[list(BAND_NAMES)].to_numpy(np.float32)[:k], singles, equal_nan=True))
    table_rate, single_rate = n / median(table_s), k / median(one_s)
    return {
        "points": n, "table_seconds": median(table_s), "table_cpu_seconds": median(table_cpu),
        "table_points_per_s": table_rate, "per_point_sampled": k, "per_point_points_per_s": single_rate,
        "speedup": table_rate / single_rate, "same_vectors": agree,
    }  # fmt: skip


def child_run(method: str, raster: Path, polygons: Path) -> dict[str, Any]:
    """One zonal run in this (fresh) process: ours or exactextract's; returns what it measured."""
    import geopandas as gpd

    from .measure import peak_rss_mib, rss_mib

    fields = gpd.read_parquet(polygons)
    if method == "zonal":
        from aef_widgets import open_source, zonal_embeddings

        source = open_source({2024: raster})
        run = lambda: zonal_embeddings(source, fields, 2024)  # noqa: E731
    else:
        from exactextract import exact_extract

        run = lambda: exact_extract(str(raster), fields, "mean", output="pandas", strategy=STRATEGY)  # noqa: E731
    imported = rss_mib()
    start, cpu = time.perf_counter(), time.process_time()
    out = run()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    peak, table = peak_rss_mib(), _table_mib(out)
    return {
        "method": method, "seconds": seconds, "cpu_seconds": cpu_seconds, "polygons": len(fields), "rows": len(out),
        "columns": int(out.shape[1]), "rss_after_imports_mib": imported, "peak_rss_mib": peak, "table_mib": table,
        "working_mib": peak - imported - table,
    }  # fmt: skip


def _table_mib(out) -> float:
    """The returned table's own size: its columns' bytes (deep) and, for a GeoDataFrame, its geometries' WKB."""
    import geopandas as gpd
    import shapely

    if not isinstance(out, gpd.GeoDataFrame):
        return float(out.memory_usage(deep=True).sum()) / 2**20
    frame = out.drop(columns=out.geometry.name).memory_usage(deep=True).sum()
    wkb = sum(len(b) for b in shapely.to_wkb(out.geometry.to_numpy()))
    return float(frame + wkb) / 2**20


def targets(t: dict[str, Any], add) -> None:
    """The issue's goals: within 1.5x of exactextract's time, memory flat in the number of polygons, points >= 20x."""
    z = t["zonal"]
    add("zonal: time <= 1.5x exactextract's (64 bands, same file)", t["time_vs_exactextract"], "<=", 1.5,
        f"{t['time_vs_exactextract']:.2f}x ({z['ours']['polygons_per_s']:,.0f} vs "
        f"{z['exactextract']['polygons_per_s']:,.0f} polygons/s)")  # fmt: skip
    add("zonal: raw peak RSS, all <= 1.5x the first tenth (input layer and returned table included)",
        t["peak_ratio_all_to_tenth"], "<=", 1.5, f"{t['peak_ratio_all_to_tenth']:.2f} "
        f"({z['ours']['peak_rss_mib']:.0f} vs {z['ours_tenth']['peak_rss_mib']:.0f} MiB)")  # fmt: skip
    ratio, few = t["working_ratio_all_to_every_tenth"], z["ours_every_tenth"]
    add("zonal: memory flat in polygons: working memory (peak less RSS before, less the table returned), all <= "
        "1.5x every tenth polygon", ratio, "<=", 1.5,
        f"{ratio:.2f} ({z['ours']['working_mib']:.0f} vs {few['working_mib']:.0f} MiB, "
        f"{t['working_bytes_per_polygon_vs_every_tenth'] / 1e3:.1f} kB a polygon; against the first tenth "
        f"{t['working_ratio_all_to_tenth']:.2f}, {t['working_bytes_per_polygon_vs_tenth'] / 1e3:.1f} kB)")  # fmt: skip
    p = t["points"]
    add(
        "points as a table: >= 20x per-point sampling",
        p["speedup"],
        ">=",
        20.0,
        f"{p['speedup']:.0f}x ({p['table_points_per_s']:,.0f} vs {p['per_point_points_per_s']:,.0f} points/s)",
    )


def markdown(t: dict[str, Any]) -> list[str]:
    rows, cols = t["scene_px"]
    z, p = t["zonal"], t["points"]
    names = {"ours": "zonal_embeddings", "ours_tenth": "zonal_embeddings, the first tenth of the polygons",
             "ours_every_tenth": "zonal_embeddings, every tenth polygon",
             "exactextract": "exactextract, mean of 64 bands"}  # fmt: skip
    lines = [
        f"**11. Tables** ({t['polygons']:,} field polygons of 20-200 m over the {cols} x {rows} px int8 scene; each "
        "zonal run a fresh process, peak RSS its VmHWM; working: the peak less the RSS before the call and less the "
        "table returned)",
        "",
        "| path | polygons | wall s | CPU s | polygons/s | peak RSS MiB | table MiB | working MiB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *(_row(names[k], r) for k, r in z.items()),
        "",
        f"Points: {p['points']:,} points as one table in {p['table_seconds']:.2f} s ({p['table_points_per_s']:,.0f} "
        f"points/s) against {p['per_point_points_per_s']:,.0f} points/s sampling one at a time "
        f"({p['per_point_sampled']} points): {p['speedup']:.0f}x; the same vectors: {p['same_vectors']}.",
    ]
    return lines


def _row(name: str, r: dict[str, Any]) -> str:
    return (f"| {name} | {r['polygons']:,} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} | "
            f"{r['polygons_per_s']:,.0f} | {r['peak_rss_mib']:.0f} | {r['table_mib']:.1f} | "
            f"{r['working_mib']:.0f} |")  # fmt: skip


if __name__ == "__main__":  # python -m benchmarks.tables METHOD RASTER POLYGONS (what run_child starts, via child)
    import sys

    print(json.dumps(child_run(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))))
