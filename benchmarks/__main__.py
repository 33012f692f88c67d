"""``python -m benchmarks [--quick] [--keep-data] ...``: run the suite, write JSON and Markdown results."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .data import Inputs, default_folder, disk_usage, prepare
from .machine import machine_info
from .report import markdown, sync_readme, targets
from .settings import FULL, PRESETS, Settings

RESULTS = Path(__file__).resolve().parent / "results"
WORKLOADS = (
    "cluster",
    "probe",
    "throughput",
    "scaling",
    "read_path",
    "classify",
    "release",
    "dask",
    "temporal",
    "startup",
    "tables",
    "region_search",
)
#: Workloads that write their own data: a run of only these generates none of the shared inputs.
OWN_DATA = ("region_search",)


def _workloads() -> dict[str, Callable[[Inputs, Settings, Path], dict[str, Any]]]:
    # imported here: they load aef_widgets and its widgets, which the argument parsing does not need
    from .classify import classify_aoi
    from .cluster import cluster_aoi, scaling
    from .dask_scaling import dask_scaling
    from .probe import probe_latency
    from .readpath import read_path
    from .region_search import region_search
    from .release import release_view
    from .startup import startup
    from .tables import tables
    from .temporal import when_changed
    from .throughput import throughput

    return {
        "cluster": cluster_aoi,
        "probe": lambda inputs, settings, _scratch: probe_latency(inputs, settings),
        "throughput": lambda inputs, settings, _scratch: throughput(inputs, settings),
        "scaling": scaling,
        "read_path": lambda inputs, settings, _scratch: read_path(inputs, settings),
        "classify": lambda inputs, settings, _scratch: classify_aoi(inputs, settings),
        "release": release_view,
        "dask": lambda inputs, settings, _scratch: dask_scaling(inputs, settings),
        "temporal": when_changed,
        "startup": lambda _inputs, settings, _scratch: startup(settings),
        "tables": tables,
        "region_search": region_search,
    }


def run(settings: Settings, out: Path, data: Path, keep_data: bool, only: Sequence[str] = WORKLOADS) -> dict:
    """Run the chosen workloads; write ``<out>/latest.json`` and ``latest.md`` (``partial.*`` for some of the
    workloads, ``quick.*``/``tiny.*`` for the smaller suites); return the results."""
    start = time.perf_counter()
    results: dict[str, Any] = {
        "suite": settings.name,
        "started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_info(),
        "settings": asdict(settings),
    }
    _say(f"inputs in {data} ...")
    inputs = prepare(settings.scene_shape, settings.aoi, data) if set(only) - set(OWN_DATA) else None
    results["inputs"] = {
        "folder": str(data),
        "generated_seconds": inputs.generated_seconds if inputs else 0.0,
        "bytes": disk_usage(data) if inputs else 0,
        "scene_px": [inputs.scene.height, inputs.scene.width] if inputs else [0, 0],
    }
    workloads = _workloads()
    try:
        with tempfile.TemporaryDirectory(prefix="aef-bench-") as scratch:
            for name in only:
                _say(f"workload {name} ...")
                t = time.perf_counter()
                results[name] = workloads[name](inputs, settings, Path(scratch))
                results[name]["workload_seconds"] = time.perf_counter() - t
    finally:
        if not keep_data and inputs is not None:
            for path in [*inputs.files(), data / "inputs.json"]:
                path.unlink(missing_ok=True)
            if data.is_dir() and not any(data.iterdir()):
                data.rmdir()
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results["targets"] = targets(results)
    results["total_seconds"] = time.perf_counter() - start
    out.mkdir(parents=True, exist_ok=True)
    # only a complete full run replaces the committed results
    stem = settings.name if settings is not FULL else "latest" if set(only) == set(WORKLOADS) else "partial"
    (out / f"{stem}.json").write_text(json.dumps(results, indent=1, default=float) + "\n")
    (out / f"{stem}.md").write_text(markdown(results))
    if stem == "latest" and out.resolve() == RESULTS.resolve():
        sync_readme(markdown(results))  # the README shows the latest full run, never a quick or partial one
    return results


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small inputs and few repetitions (about a minute)")
    size.add_argument("--tiny", action="store_true", help="seconds-long run of every code path (the smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"where results go (default {RESULTS})")
    parser.add_argument("--data", type=Path, default=None, help="folder for the generated inputs")
    parser.add_argument("--keep-data", action="store_true", help="keep the inputs for the next run (several GB)")
    parser.add_argument("--only", nargs="+", choices=WORKLOADS, default=list(WORKLOADS), help="run only these")
    args = parser.parse_args(argv)
    settings = PRESETS["tiny" if args.tiny else "quick" if args.quick else "full"]
    data = args.data or default_folder() / settings.name
    results = run(settings, args.out, data, args.keep_data, args.only)
    print(markdown(results))
    if not args.keep_data:
        parent = default_folder()
        if args.data is None and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
        _say(f"removed the generated inputs from {data}")
    elif data.exists():
        _say(f"kept {disk_usage(data) / 1e9:.1f} GB of inputs in {data}; delete it or run without --keep-data")


if __name__ == "__main__":
    main()
