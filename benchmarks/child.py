"""One measured run in a fresh process: ``python -m benchmarks.child {classic|library} IN OUT [SIDE]``, or
``{reads|when} FOLDER N_YEARS`` for the temporal workload.

Prints one JSON line: seconds from opening the input to the written labels, CPU seconds, resident memory after
the imports and at its peak over the process's life (VmHWM).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from .measure import peak_rss_mib, rss_mib


def library_kmeans(path: Path, out: Path, side: int | None = None) -> int:
    """The library's streaming path: ``cluster_grid`` over the file (or its top-left ``side`` px), then
    ``write_labels``; returns the number of valid pixels labelled."""
    from rasterio.windows import Window

    from aef_widgets import EmbeddingKMeans, cluster_grid, open_source
    from aef_widgets.sources.base import subgrid
    from aef_widgets.sources.export import write_labels

    source = open_source({2024: path})
    grid = source.grid()
    if side is not None:
        grid = subgrid(grid, Window(0, 0, min(side, grid.width), min(side, grid.height)))
    labels = cluster_grid(source, grid, 2024, None, EmbeddingKMeans(n_clusters=5, n_samples=500, random_state=0))
    write_labels(out, labels, grid)
    return int((labels >= 0).sum())


def main(argv: list[str]) -> None:
    if argv[0] in ("zonal", "exactextract"):  # the tables workload: METHOD RASTER POLYGONS
        from .tables import child_run

        print(json.dumps(child_run(argv[0], Path(argv[1]), Path(argv[2]))))
        return
    if argv[0] in ("reads", "when"):  # the temporal workload: METHOD FOLDER N_YEARS
        _temporal(argv[0], Path(argv[1]), int(argv[2]))
        return
    method, path, out = argv[0], Path(argv[1]), Path(argv[2])
    side = int(argv[3]) if len(argv) > 3 else None
    if method == "classic":
        from .classic import classic_kmeans as run
    else:
        _import_library()
        run = library_kmeans
    imported_mib = rss_mib()
    start, cpu = time.perf_counter(), time.process_time()
    valid = run(path, out) if side is None else run(path, out, side)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    report = {
        "method": method,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "valid_pixels": valid,
        "rss_after_imports_mib": imported_mib,
        "peak_rss_mib": peak_rss_mib(),
    }
    print(json.dumps(report))


def _import_library() -> None:
    """Load what the library's runs use before measuring, like the classic run's imports: the package exports
    its names lazily, so ``import aef_widgets`` alone would leave scikit-learn and rasterio to the timed part."""
    import sklearn.cluster  # noqa: F401  (EmbeddingKMeans imports it when it fits)

    import aef_widgets.engines.temporal_workflows
    import aef_widgets.engines.workflows
    import aef_widgets.sources.export
    import aef_widgets.sources.geotiff  # noqa: F401  (rasterio, GDAL)


def _temporal(method: str, folder: Path, n_years: int) -> None:
    _import_library()
    from .temporal import child_run

    imported_mib = rss_mib()
    start, cpu = time.perf_counter(), time.process_time()
    valid = child_run(method, folder, n_years)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    report = {
        "method": method, "years": n_years, "seconds": seconds, "cpu_seconds": cpu_seconds, "valid_pixels": valid,
        "rss_after_imports_mib": imported_mib, "peak_rss_mib": peak_rss_mib(),
    }  # fmt: skip
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1:])
