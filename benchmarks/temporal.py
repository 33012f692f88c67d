"""Workload 6: when did it change, over nine years of the classic AOI, against nine single-year reads of it.

The nine years are nine names (hard links) of the AOI's int8 COG: the same bytes decoded nine times, so both
sides read and decode exactly the same data, and the comparison isolates what the temporal path adds on top of
reading (unit-length dot products, the running maximum, holding two years per chunk). Every run is a fresh
process with its own peak memory, baseline and ours alternating; the when-did-it-change map is also run over
three years, so memory can be compared across the number of years.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .data import Inputs
from .measure import median, run_child, warm_page_cache
from .settings import Settings

YEARS = tuple(range(2017, 2026))
FEW_YEARS = 3


def year_files(inputs: Inputs, scratch: Path) -> Path:
    """A folder of ``aoi_{year}.tif`` links to the AOI's int8 COG, one per year."""
    folder = scratch / "years"
    folder.mkdir(exist_ok=True)
    for year in YEARS:
        link = folder / f"aoi_{year}.tif"
        if not link.exists():
            try:
                os.link(inputs.aoi_int8, link)
            except OSError:  # another file system: a symbolic link reads the same bytes
                link.symlink_to(inputs.aoi_int8)
    return folder


def child_run(method: str, folder: Path, n_years: int) -> int:
    """In the child: ``reads`` streams each year's AOI once; ``when`` builds the when-did-it-change map."""
    from aef_widgets import open_source
    from aef_widgets.engines.temporal_workflows import change_years_grid
    from aef_widgets.engines.workflows import stream_grid

    years = YEARS[:n_years]
    source = open_source({year: folder / f"aoi_{year}.tif" for year in years})
    grid = source.grid()
    if method == "reads":
        valid = 0
        for year in years:
            for _window, field in stream_grid(source, grid, year, None):
                valid += field.valid_count
        return valid
    result = change_years_grid(source, grid, None, years)
    return int((result.year > 0).sum())


def when_changed(inputs: Inputs, settings: Settings, scratch: Path) -> dict[str, Any]:
    folder = year_files(inputs, scratch)
    warm_page_cache([inputs.aoi_int8])
    runs: dict[str, list[dict[str, Any]]] = {"reads": [], "when": [], "when_few": []}
    for _ in range(settings.temporal_repeats):
        runs["reads"].append(run_child(["reads", str(folder), str(len(YEARS))]))
        runs["when"].append(run_child(["when", str(folder), str(len(YEARS))]))
        runs["when_few"].append(run_child(["when", str(folder), str(FEW_YEARS)]))
    summary = {
        name: {
            "seconds": median([r["seconds"] for r in rs]),
            "seconds_all": [r["seconds"] for r in rs],
            "cpu_seconds": median([r["cpu_seconds"] for r in rs]),
            "peak_rss_mib": median([r["peak_rss_mib"] for r in rs]),
            "rss_after_imports_mib": median([r["rss_after_imports_mib"] for r in rs]),
        }
        for name, rs in runs.items()
    }
    rows, cols = inputs.aoi
    reads, when, few = summary["reads"], summary["when"], summary["when_few"]
    return {
        "aoi_px": [rows, cols],
        "megapixels": rows * cols / 1e6,
        "years": len(YEARS),
        "few_years": FEW_YEARS,
        "runs": summary,
        "time_ratio_to_reads": when["seconds"] / reads["seconds"],
        "cpu_ratio_to_reads": when["cpu_seconds"] / reads["cpu_seconds"],
        "peak_rss_ratio_years": when["peak_rss_mib"] / few["peak_rss_mib"],
        "peak_rss_mib_per_year": (when["peak_rss_mib"] - few["peak_rss_mib"]) / (len(YEARS) - FEW_YEARS),
        "valid_pixels_agree": len({r["valid_pixels"] for r in runs["when"]}) == 1,
    }
