"""What the suite ran on: CPU, cores, memory, load, and the versions that decide the numbers."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import sklearn
from threadpoolctl import threadpool_info


def machine_info() -> dict[str, Any]:
    """CPU model, cores, RAM, load, Python, numpy/GDAL/rasterio/scikit-learn versions and the BLAS in use."""
    blas = [
        f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture', '?')}, {p.get('num_threads')} threads)"
        for p in threadpool_info()
        if p.get("user_api") == "blas"
    ]
    return {
        "cpu": _cpu_model(),
        # the kind of machine, so tables from different kinds are told apart: numbers that are bound by memory and
        # caches (float64 decoding, scattered writes) moved 2-3x between AMD families 23, 25 and 26 (issue 22)
        "cpu_kind": _cpu_kind(),
        "simd": [f for f in SIMD_FLAGS if f in _cpu_flags()],
        "caches": _caches(),
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "ram_gib": round(_meminfo_kib("MemTotal") / 2**20, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "gdal": rasterio.__gdal_version__,
        "rasterio": rasterio.__version__,
        "scikit-learn": sklearn.__version__,
        "blas": sorted(set(blas)),
    }


#: CPU flags that decide which kernels numpy, OpenBLAS and libdeflate pick.
SIMD_FLAGS = ("sse4_2", "avx", "avx2", "fma", "bmi2", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16",
              "neon", "asimd", "sve")  # fmt: skip


def _cpu_kind() -> dict[str, str]:
    """Vendor, family, model and stepping as /proc/cpuinfo gives them (empty where it does not)."""
    fields = _cpuinfo()
    keys = {"vendor": "vendor_id", "family": "cpu family", "model": "model", "stepping": "stepping"}
    return {name: fields[key] for name, key in keys.items() if key in fields}


def _caches() -> str:
    """Cache sizes of the first CPU, e.g. "L1d 32K, L2 512K, L3 32768K" (scattered writes depend on them)."""
    found = []
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level, kind = (index / "level").read_text().strip(), (index / "type").read_text().strip()
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        if kind != "Instruction":
            found.append(f"L{level}{'d' if kind == 'Data' else ''} {size}")
    return ", ".join(found)


def _cpuinfo() -> dict[str, str]:
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return fields


def _cpu_model() -> str:
    """The model name, with family and model numbers where the name alone is vague (as on cloud VMs)."""
    fields = _cpuinfo()
    name = fields.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in fields and "model" in fields:
        name += f" (family {fields['cpu family']}, model {fields['model']})"
    return name


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _meminfo_kib(key: str) -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
