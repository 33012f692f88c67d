"""Timing, statistics, child processes with their own peak memory, and the page cache."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: The folder holding the ``benchmarks`` package: children run from there so ``-m benchmarks.child`` resolves.
ROOT = Path(__file__).resolve().parent.parent


def median(values: Sequence[float]) -> float:
    return float(np.median(values))


def p95(values: Sequence[float]) -> float:
    return float(np.percentile(values, 95))


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def repeat(fn: Callable[[], Any], times: int) -> list[float]:
    """Seconds of each of ``times`` calls."""
    return [timed(fn)[0] for _ in range(times)]


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (VmHWM), in MiB."""
    return _status_kib("VmHWM") / 1024


def rss_mib() -> float:
    """This process's resident memory now (VmRSS), in MiB."""
    return _status_kib("VmRSS") / 1024


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{key} not in /proc/self/status")


def run_child(args: Sequence[str]) -> dict[str, Any]:
    """Run ``python -m benchmarks.child *args`` in a fresh process and return its JSON report.

    Its peak memory is the child's own VmHWM, read by the child: the ``ru_maxrss`` that ``wait4`` reports for a
    child also counts the forked copy of this process from before the ``exec`` (measured: every child then
    "peaked" at this process's size).
    """
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.child", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child {list(args)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def linear_fit(x: Sequence[float], y: Sequence[float]) -> dict[str, float]:
    """Least-squares line y = slope * x + intercept, with R^2."""
    x_arr, y_arr = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    slope, intercept = np.polyfit(x_arr, y_arr, 1)
    fitted = slope * x_arr + intercept
    total = float(((y_arr - y_arr.mean()) ** 2).sum())
    r2 = 1.0 - float(((y_arr - fitted) ** 2).sum()) / total if total else 1.0
    return {"slope": float(slope), "intercept": float(intercept), "r2": r2}


def warm_page_cache(paths: Sequence[Path]) -> None:
    """Read files once so every run finds them in the OS page cache, as a notebook re-run would."""
    for path in paths:
        with open(path, "rb") as f:
            while f.read(64 * 2**20):
                pass


def evict_page_cache(path: Path) -> bool:
    """Ask the kernel to drop a file's cached pages (no root needed); False where that is not supported."""
    if not hasattr(os, "posix_fadvise"):
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    return True


def finite(value: float) -> float | None:
    """JSON has no NaN: None instead."""
    return None if value is None or not math.isfinite(value) else float(value)
