"""The results as targets met or missed, and as a Markdown table for the README."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .tables import markdown as tables_markdown
from .tables import targets as tables_targets

#: Scaling counts as linear in time when a line fits the (Mpx, seconds) points this well, and memory as flat when
#: peak memory grows by at most this many MiB per Mpx: the int16 labels (2 B/px) and the temporaries of writing
#: them as uint8 grow with the AOI by design, while holding the embeddings would cost 256 MiB per Mpx as float32.
LINEAR_R2 = 0.98
FLAT_MIB_PER_MPX = 8.0
#: The app's targets: page load to the map with its RGB overlay, and kernel memory per visitor (300 MB, not MiB).
FIRST_RENDER_S = 5.0
KERNEL_MIB = 300e6 / 2**20
_SMALL_SUITE = "Targets are set for the full suite: at this size they are only indicative."


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue with the measured value and whether it holds."""
    out: list[dict[str, Any]] = []

    def add(name: str, value: float, op: str, limit: float, text: str) -> None:
        met = value >= limit if op == ">=" else value <= limit
        out.append({"target": name, "value": value, "op": op, "limit": limit, "measured": text, "met": bool(met)})

    if "cluster" in results:
        ours = results["cluster"]["runs"]["library_float64"]
        add("cluster AOI, same float64 file: >= 2x faster than classic", ours["speedup"], ">=", 2.0,
            f"{ours['speedup']:.1f}x")  # fmt: skip
        add("cluster AOI, same float64 file: <= 1/10 of classic peak memory", ours["memory_fraction"], "<=", 0.1,
            f"{ours['memory_fraction']:.3f} ({ours['peak_rss_mib']:.0f} MiB)")  # fmt: skip
        classic = results["cluster"]["runs"]["classic"]
        cpu_ratio = classic["cpu_seconds"] / ours["cpu_seconds"]
        add("cluster AOI, same float64 file: >= 2x less CPU than classic", cpu_ratio, ">=", 2.0,
            f"{cpu_ratio:.1f}x ({ours['cpu_seconds']:.1f} CPU s vs {classic['cpu_seconds']:.1f})")  # fmt: skip
    if "probe" in results:
        warm, cold = results["probe"]["warm_ms"], results["probe"]["cold_ms"]
        add("probe, warm click: median <= 50 ms", warm["median"], "<=", 50.0,
            f"{warm['median']:.1f} ms (p95 {warm['p95']:.1f})")  # fmt: skip
        busy = results["probe"]["warm_busy_ms"]
        add("probe, warm click with the other core busy: median <= 50 ms", busy["median"], "<=", 50.0,
            f"{busy['median']:.1f} ms (p95 {busy['p95']:.1f})")  # fmt: skip
        add("probe, cold click: <= 1 s", cold["median"], "<=", 1000.0,
            f"{cold['median']:.0f} ms (max {cold['max']:.0f})")  # fmt: skip
    if "throughput" in results:
        fraction = results["throughput"]["similarity_fraction_of_bound"]
        add("similarity >= 50% of the memory-bandwidth bound", fraction, ">=", 0.5, f"{100 * fraction:.0f}%")
    if "read_path" in results:
        fraction, streamed, floor = floor_fraction(results["read_path"])
        add("int8 COG streamed >= 80% of the raw GDAL decoding floor", fraction, ">=", 0.8,
            f"{100 * fraction:.0f}% ({streamed:.1f} vs {floor:.1f} Mpx/s)")  # fmt: skip
    if "scaling" in results:
        s = results["scaling"]
        add(f"scaling: time linear (R^2 >= {LINEAR_R2})", s["time_fit"]["r2"], ">=", LINEAR_R2,
            f"R^2 {s['time_fit']['r2']:.4f}, {s['time_fit']['slope']:.2f} s/Mpx")  # fmt: skip
        add(f"scaling: memory flat (<= {FLAT_MIB_PER_MPX:g} MiB more per Mpx)", s["memory_slope_mib_per_mpx"], "<=",
            FLAT_MIB_PER_MPX, f"{s['memory_slope_mib_per_mpx']:.1f} MiB/Mpx, peak ratio "
            f"{s['peak_rss_ratio_largest_to_smallest']:.2f} for 16x the pixels")  # fmt: skip
    if "classify" in results:
        update = results["classify"]["view_update"]
        side = "x".join(map(str, update["view_px"]))
        add(f"classify: label added, {side} view updated warm <= 1 s (same method)", update["total_s"], "<=", 1.0,
            f"{update['total_s']:.2f} s (refit {update['fit_s']:.2f} s, map {update['classify_s']:.2f} s)")  # fmt: skip
    if "release" in results:
        r = results["release"]
        for name, what in (("rgb", "first RGB view (3 bands)"), ("similarity", "10 m similarity view (64 bands)")):
            fetched, needed = r[f"{name}_fetched_bytes"] / 1e6, r[f"{name}_needed_bytes"] / 1e6
            add(f"release {what}: bytes <= 1.15x its tiles (plus headers)", r[f"{name}_bytes_ratio"], "<=", 1.15,
                f"{r[f'{name}_bytes_ratio']:.3f}x ({fetched:.1f} MB for {needed:.1f} MB of tiles, "
                f"{r[f'{name}_header_bytes'] / 1e3:.0f} kB of headers)")  # fmt: skip
            add(f"release {what}: time <= 1.3x the transfer floor", r[f"{name}_time_ratio"], "<=", 1.3,
                f"{r[f'{name}_time_ratio']:.2f}x ({r[f'{name}_s']:.2f} s vs {r[f'{name}_floor_s']:.2f} s)")  # fmt: skip
        add("release second click in a tile position: no request", r["second_click_requests"], "<=", 0,
            f"{r['second_click_requests']} requests")  # fmt: skip
        add("release second click in a tile position: <= 50 ms", r["second_click_ms"], "<=", 50,
            f"{r['second_click_ms']:.0f} ms")  # fmt: skip
        per_pass = max(r["stream_decodes_per_tile"]) / r["stream_passes"]
        add("release k-means streamed: each band tile decoded once a pass", per_pass, "<=", 1,
            f"each of {r['stream_band_tiles']} band tiles decoded {r['stream_decodes_per_tile']} times in "
            f"{r['stream_passes']} passes")  # fmt: skip
        add("release 10 m view (64 bands): time <= 1.5x a plain rasterio read", r["time_ratio"], "<=", 1.5,
            f"{r['time_ratio']:.2f}x ({r['view64_s']:.2f} s vs {r['rasterio_s']:.2f} s)")  # fmt: skip
        add("release view reopened: no request", r["reopen_requests"], "<=", 0, f"{r['reopen_requests']} requests")
    if "temporal" in results:
        t = results["temporal"]
        add(f"when it changed, {t['years']} years: <= 1.2x {t['years']} single-year reads", t["time_ratio_to_reads"],
            "<=", 1.2, f"{t['time_ratio_to_reads']:.2f}x")  # fmt: skip
        add(f"when it changed: memory flat in years ({t['years']} vs {t['few_years']}: peak ratio <= 1.1)",
            t["peak_rss_ratio_years"], "<=", 1.1, f"{t['peak_rss_ratio_years']:.2f} "
            f"({t['peak_rss_mib_per_year']:+.1f} MiB per year)")  # fmt: skip
    if "startup" in results:
        pool = results["startup"]["runs"]["preheated"]
        seconds = [pool[k] for k in ("first_visitor_s", "second_visitor_s") if k in pool]  # one in the smoke test
        add(f"app: first render <= {FIRST_RENDER_S:g} s, first and second visitor (preheated pool)", max(seconds),
            "<=", FIRST_RENDER_S, ", then ".join(f"{x:.1f} s" for x in seconds))  # fmt: skip
        rss = pool["kernel_rss_mib"]["max"]
        add("app: kernel memory per visitor <= 300 MB RSS", rss, "<=", KERNEL_MIB,
            f"{rss * 2**20 / 1e6:.0f} MB ({rss:.0f} MiB), largest of {pool['kernels']} kernels")  # fmt: skip
    if "tables" in results:
        tables_targets(results["tables"], add)
    if "region_search" in results:
        from .region_search import region_targets

        region_targets(results["region_search"], add, FLAT_MIB_PER_MPX)  # issue 21
    return out


def floor_fraction(read_path: dict[str, Any]) -> tuple[float, float, float]:
    """The whole AOI streamed at 10 m as a fraction of the raw GDAL read of the same file; and both, in Mpx/s."""
    rates = {row["read"]: row["out_mpx_per_s"] for row in read_path["reads"]}
    streamed = rates["whole AOI, 10 m, streamed"]
    floor = next(rate for name, rate in rates.items() if name.endswith("raw GDAL"))
    return streamed / floor, streamed, floor


def markdown(results: dict[str, Any]) -> str:
    """The whole report as Markdown: machine, targets, then one table per workload."""
    m = results["machine"]
    lines = [
        f"### Benchmarks ({results['suite']} suite, {results['started']})",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores ({', '.join(m['simd']) or 'no AVX'}"
        f"{'; ' + m['caches'] if m.get('caches') else ''}), {m['ram_gib']} GiB RAM; "
        f"{m['os']}; Python {m['python']}, "
        f"numpy {m['numpy']}, GDAL {m['gdal']}, rasterio {m['rasterio']}, scikit-learn {m['scikit-learn']}; "
        f"BLAS: {'; '.join(m['blas'])}. Load average at start {m['load_average']}, at end "
        f"{m.get('load_average_end', '?')} (a shared machine: ratios within one run are what compare).",
        "",
        *([] if results["suite"] == "full" else [_SMALL_SUITE, ""]),
        "| target | measured | met |",
        "| --- | --- | --- |",
        *(f"| {t['target']} | {t['measured']} | {'yes' if t['met'] else '**no**'} |" for t in results["targets"]),
    ]
    for key, render in (("cluster", _cluster), ("probe", _probe), ("throughput", _throughput),
                        ("scaling", _scaling), ("read_path", _read_path), ("classify", _classify),
                        ("release", _release), ("dask", _dask), ("temporal", _temporal),
                        ("startup", _startup), ("tables", tables_markdown),
                        ("region_search", _region)):  # fmt: skip
        if key in results:
            lines += ["", *render(results[key])]
    generated = results["inputs"]["generated_seconds"]
    lines += ["", f"Total suite time {results['total_seconds']:.0f} s (generating the inputs: {generated:.0f} s)."]
    return "\n".join(lines) + "\n"


def _cluster(c: dict[str, Any]) -> list[str]:
    rows, cols = c["aoi_px"]
    runs, agree, design = c["runs"], c["agreement"], c["reread_vs_reencode"]
    lines = [
        f"**1. Cluster the classic AOI** ({cols} x {rows} px, {c['megapixels']:.1f} Mpx, 64 bands, k=5 fitted on 500 "
        f"pixels; float64 file {c['float64_file_gb']:.2f} GB on disk, int8 COG {c['int8_file_gb']:.2f} GB). The "
        "classic path is a reconstruction of the steps described (the notebook is not public): read the whole float64 "
        "GeoTIFF as geemap/geedim write it, KMeans(5) on 500 random pixels, predict every pixel, write uint8. Each run "
        "in a fresh process; peak RSS is its VmHWM.",
        "",
        "| path | wall s | CPU s | peak RSS MiB | after imports MiB | speed vs classic | memory vs classic |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in ("classic", "library_float64", "library_int8"):
        r = runs[name]
        speed = f"{r['speedup']:.1f}x" if "speedup" in r else "1"
        memory = f"{r['memory_fraction']:.3f}" if "memory_fraction" in r else "1"
        lines.append(
            f"| {r['what']} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} | {r['peak_rss_mib']:.0f} | "
            f"{r['rss_after_imports_mib']:.0f} | {speed} | {memory} |"
        )
    lines += [
        "",
        f"Labels from the float64 file and the int8 COG are identical: {agree['float64_equals_int8']}; nodata matches "
        f"the classic path: {agree['nodata_agrees_with_classic']}; adjusted Rand index against the classic labels "
        f"(other sample, same k): {agree['adjusted_rand_vs_classic']:.3f}. Per 256 x 256 chunk of the float64 file, "
        f"re-reading costs {design['reread_cpu_ms']:.0f} CPU ms{_raw_decode(design)}; keeping an int8 copy instead "
        f"costs {design['reencode_and_check_cpu_ms']:.0f} ms to encode and check (lossless: {design['lossless']}) plus "
        f"{design['dequantize_cpu_ms']:.0f} ms to decode, and 64 MiB per Mpx of memory.",
    ]
    return lines


def _raw_decode(design: dict[str, Any]) -> str:
    """The float64 decoding floor within a re-read (absent from results taken before it was recorded)."""
    if "raw_decode_cpu_ms" not in design:
        return ""
    return f" (decoding its float64 bands as stored, the floor of any reader: {design['raw_decode_cpu_ms']:.0f})"


def _probe(p: dict[str, Any]) -> list[str]:
    b = p["warm_breakdown_ms"]
    rows = (("warm click", p["warm_ms"]), ("cold: first click after opening the year", p["cold_ms"]),
            ("cold, file evicted from the page cache", p["cold_from_disk_ms"]),
            ("warm click, all its work (matches layer and area too)", p["whole_click_warm_ms"]),
            (f"warm click, {p['warm_busy_ms']['load_processes']} other core(s) busy with a numpy loop",
             p["warm_busy_ms"]))  # fmt: skip
    return [
        f"**2. Similarity probe latency** (click to overlay ready; {p['view_px'][0]} x {p['view_px'][1]} px view, "
        f"field read at {p['field_px'][1]} x {p['field_px'][0]} px, PNG data URL {p['overlay_url_kb']:.0f} kB)",
        "",
        "| clicks | median ms | p95 ms | max ms | n |",
        "| --- | --- | --- | --- | --- |",
        *(f"| {name} | {s['median']:.1f} | {s['p95']:.1f} | {s['max']:.1f} | {s['n']} |" for name, s in rows),
        "",
        f"A warm click's steps, timed alone: reading the clicked pixel {b['read_clicked_pixel']:.1f} ms, similarity of "
        f"the cached view field {b['similarity']:.1f} ms, colouring, resampling and PNG {b['overlay_png']:.1f} ms."
        + _click_cpu(p),
    ]


def _click_cpu(p: dict[str, Any]) -> str:
    """The CPU a whole warm click used (absent from results taken before it was recorded)."""
    if "warm_cpu_ms" not in p:
        return ""
    idle, busy = p["warm_cpu_ms"]["median"], p["warm_busy_cpu_ms"]["median"]
    return (
        f" CPU per warm click (all its threads, so the load does not change it much): median {idle:.1f} ms, "
        f"{busy:.1f} ms with the other core busy; a click slower than its CPU waited for a core."
    )


def _throughput(t: dict[str, Any]) -> list[str]:
    lines = [
        f"**3. Throughput** on {t['pixels'] / 1e6:.1f} Mpx in memory ({t['array_mib']:.0f} MiB of float32)",
        "",
        "| operation | Mpx/s | GB/s | of bound |",
        "| --- | --- | --- | --- |",
    ]
    for name, r in t["results"].items():
        lines.append(f"| {name} | {r['mpx_per_s']:.0f} | {r['gb_per_s']:.1f} | {100 * r['fraction_of_bound']:.0f}% |")
    return lines


def _scaling(s: dict[str, Any]) -> list[str]:
    fit = s["time_fit"]
    lines = [
        "**4. Scaling** of the streaming cluster path (int8 COG, square AOIs, fresh process each)",
        "",
        "| AOI px | Mpx | wall s | CPU s | peak RSS MiB | above imports MiB |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for p, above in zip(s["points"], s["rss_above_imports_mib"]):
        side = p["side"]
        lines.append(f"| {side} x {side} | {p['megapixels']:.1f} | {p['seconds']:.2f} | {p['cpu_seconds']:.2f} | "
                     f"{p['peak_rss_mib']:.0f} | {above:.0f} |")  # fmt: skip
    lines += [
        "",
        f"Time: {fit['slope']:.3f} s/Mpx + {fit['intercept']:.2f} s (R^2 {fit['r2']:.4f}); "
        f"{s['size_ratio_largest_to_smallest']:.0f}x the pixels took {s['time_ratio_largest_to_smallest']:.1f}x the "
        f"time. Memory: peak ratio {s['peak_rss_ratio_largest_to_smallest']:.2f}, "
        f"{s['memory_slope_mib_per_mpx']:.1f} MiB per Mpx: the int16 labels and the temporaries of writing them as "
        "uint8; the embeddings themselves would be 256 MiB per Mpx.",
    ]
    return lines


def _read_path(r: dict[str, Any]) -> list[str]:
    options = ", ".join(f"{k}={v}" for k, v in r["gdal_options"].items())
    lines = [
        f"**5. Read path**: {r['file']} ({r['aoi_px'][1]} x {r['aoi_px'][0]} px int8 COG, {r['tile_px']} px tiles, "
        f"overviews {r['overviews']}), decoded to float32 vectors and mask",
        "",
        "| read | Mpx/s out | Mpx/s of ground | how |",
        "| --- | --- | --- | --- |",
        *(f"| {x['read']} | {x['out_mpx_per_s']:.1f} | {x['ground_mpx_per_s']:.1f} | {x['how']} |" for x in r["reads"]),
        "",
        f"GDAL settings: {options}; streaming reads use a pool of {r['pool']['threads']} threads with "
        f"GDAL_NUM_THREADS={r['pool']['gdal_num_threads_per_thread']} each and {r['pool']['chunk_mib']} MiB chunks. "
        f"Streamed, the whole AOI reads at {100 * floor_fraction(r)[0]:.0f}% of the raw GDAL read's rate.",
    ]
    return lines


def _classify(c: dict[str, Any]) -> list[str]:
    rows, cols = c["aoi_px"]
    memory, update = c["memory"], c["view_update"]
    lines = [
        f"**6. Classify the AOI streamed** ({cols} x {rows} px, {c['megapixels']:.1f} Mpx int8 COG, {c['labels']} "
        "labels in 6 classes), in the same run as k-means labelling of the same chunks",
        "",
        "| path | wall s | Mpx/s | speed vs k-means labelling |",
        "| --- | --- | --- | --- |",
        *(
            f"| {name} | {r['seconds']:.2f} | {r['mpx_per_s']:.1f} | {r['vs_kmeans']:.2f}x |"
            for name, r in c["results"].items()
        ),
        "",
        f"Peak memory allocated by a streamed classification (logistic): {memory['peak_mib']:.0f} MiB for the AOI, "
        f"{memory['quarter_peak_mib']:.0f} MiB for its top-left quarter: {memory['mib_per_mpx']:.1f} MiB more per "
        f"Mpx, where the outputs (labels, confidence, margin) take {memory['outputs_mib_per_mpx']:.1f} and the "
        "embeddings would take 256; the rest is the chunks in flight. 1-NN labels agree with the "
        f"k-means clusters the labels came from on {100 * (c['knn1_agrees_with_kmeans'] or 0):.1f}% of pixels. "
        f"A label added to a {update['view_px'][1]} x {update['view_px'][0]} view in memory: refit of the method "
        f"auto chose ({update['method']}) {update['fit_s']:.2f} s, class map {update['classify_s']:.2f} s; choosing "
        f"the method again by cross-validation takes {update['auto_choice_s']:.2f} s more (in the background).",
    ]
    return lines


def _startup(s: dict[str, Any]) -> list[str]:
    names = {"preheated": f"shipped voila.json: preheated pool of {s['pool_size']}", "no_pool": "pool off"}
    return [
        "**10. App startup**: `notebooks/explorer.ipynb` in real Voila, headless Chromium offline; page load to the "
        "map with its RGB overlay drawn, two visitors one after the other (each a fresh kernel); kernel memory is the "
        "VmRSS of every kernel the server holds once both have their map, a pooled one included",
        "",
        "| server | first visitor s | second visitor s | kernels | kernel RSS MiB (largest) |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| {names.get(name, name)} | {r['first_visitor_s']:.1f} | {_seconds(r.get('second_visitor_s'))} "
            f"| {r['kernels']} "
            f"| {r['kernel_rss_mib']['max']:.0f} |"
            for name, r in s["runs"].items()
        ),
    ]


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"  # the smoke test's single visitor has no second


def _region(r: dict[str, Any]) -> list[str]:
    from .region_search import region_markdown

    return region_markdown(r)


README = Path(__file__).resolve().parents[1] / "README.md"
README_START, README_END = "<!-- BENCHMARKS:START -->", "<!-- BENCHMARKS:END -->"


def sync_readme(table: str, readme: Path = README) -> None:
    """Put the latest full run's Markdown between the README's benchmark markers."""
    text = readme.read_text()
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    readme.write_text(text[:start] + "\n" + table.strip() + "\n" + text[end:])


def _release(r: dict[str, Any]) -> list[str]:
    return [
        f"**7. Public release over HTTP**: a {r['view_px']} x {r['view_px']} px view at 10 m, off the tile lattice, of "
        f"a {r['file_px']} px file built like the release's ({r['tile_px']} px band-separate ZSTD tiles, bottom-up), "
        f"from a loopback server adding {r['latency_ms']:.0f} ms per request with {r['bandwidth_mb_s']:.0f} MB/s "
        f"shared; open_source('release') with a cold cache; medians of {r['runs']} runs, bytes counted by the server.",
        "",
        "| read | seconds | transfer floor | bytes fetched | tiles needed |",
        "| --- | --- | --- | --- | --- |",
        f"| first RGB view (3 bands) | {r['rgb_s']:.2f} | {r['rgb_floor_s']:.2f} | "
        f"{r['rgb_fetched_bytes'] / 1e6:.1f} MB | {r['rgb_needed_bytes'] / 1e6:.1f} MB |",
        f"| first picture of that view, from the overview {r['preview_factor']}x coarser | {r['preview_s']:.2f} | "
        f"{r['preview_floor_s']:.2f} | {r['preview_bytes'] / 1e6:.2f} MB | |",
        f"| that picture, then the full view (as the map draws it) | {r['preview_full_s']:.2f} | | "
        f"{r['preview_total_bytes'] / 1e6:.1f} MB | |",
        f"| similarity view: click ({r['click_s']:.2f} s), then 64 bands | {r['similarity_s']:.2f} | "
        f"{r['similarity_floor_s']:.2f} | {r['similarity_fetched_bytes'] / 1e6:.1f} MB | "
        f"{r['similarity_needed_bytes'] / 1e6:.1f} MB |",
        f"| second click in the same tile position | {r['second_click_ms'] / 1000:.3f} | | "
        f"{r['second_click_requests']} requests | |",
        f"| plain rasterio read of the view's 64 bands (int8, no decoding) | {r['rasterio_s']:.2f} | | "
        f"{r['rasterio_fetched_bytes'] / 1e6:.1f} MB | |",
        f"| the view after a restart, from the disk cache | | | {r['reopen_requests']} requests | |",
        f"| k-means of the file, streamed in {r['stream_passes']} passes (each band tile decoded "
        f"{r['stream_decodes_per_tile']} times) | {r['stream_s']:.2f} | | {r['stream_fetched_bytes'] / 1e6:.1f} MB | "
        f"{r['stream_needed_bytes'] / 1e6:.1f} MB |",
        "",
        f"Index look-up of a view in a 360,000-row index: {r['index_lookup_ms']:.2f} ms.",
    ]


def _dask(d: dict[str, Any]) -> list[str]:
    rows, cols = d["aoi_px"]
    lines = [
        f"**8. Past one machine: k-means of the AOI on a local Dask cluster** ({cols} x {rows} px int8 COG; worker "
        "processes of one thread each, reading their own chunks)",
        "",
        "| workers | wall s | worker CPU s | peak worker RSS MiB | labels equal the threaded path |",
        "| --- | --- | --- | --- | --- |",
        *(f"| {r['workers']} | {r['wall_s']:.2f} | {r['worker_cpu_s']:.1f} | {r['peak_worker_rss_mib']:.0f} | "
          f"{r['equal_to_threaded']} |" for r in d["runs"]),
        "",
        f"2 workers against 1: {d['speedup_2_vs_1']:.2f}x faster (2 cores here).",
    ]  # fmt: skip
    return lines


def _temporal(t: dict[str, Any]) -> list[str]:
    rows, cols = t["aoi_px"]
    names = {"reads": f"{t['years']} single-year reads (stream_grid), the baseline",
             "when": f"when it changed, {t['years']} years (change_years_grid)",
             "when_few": f"when it changed, {t['few_years']} years"}  # fmt: skip
    lines = [
        f"**9. Time**: the when-did-it-change map of the AOI ({cols} x {rows} px, {t['megapixels']:.1f} Mpx) over "
        f"{t['years']} years, each year a link to the same int8 COG (the same bytes decoded each time), against "
        "reading every year once; fresh process each",
        "",
        "| run | wall s | CPU s | peak RSS MiB | after imports MiB |",
        "| --- | --- | --- | --- | --- |",
    ]
    for key, name in names.items():
        r = t["runs"][key]
        lines.append(f"| {name} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} | {r['peak_rss_mib']:.0f} | "
                     f"{r['rss_after_imports_mib']:.0f} |")  # fmt: skip
    lines += [
        "",
        f"Time {t['time_ratio_to_reads']:.2f}x the reads (CPU time {t['cpu_ratio_to_reads']:.2f}x); peak memory "
        f"{t['peak_rss_ratio_years']:.2f}x that of {t['few_years']} years ({t['peak_rss_mib_per_year']:+.1f} MiB per "
        "added year).",
    ]
    return lines
