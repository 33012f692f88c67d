"""Workload 6: opening a view of the public release over HTTP, against a loopback server with 50 ms per request.

One release tile (an int8 COG of real vectors, 256 px blocks, renormalised-mean overviews) is served by the test
suite's range server with added latency. A 1024 x 1024 px view at 10 m, not aligned to the blocks, is opened three
ways: through ``open_source("release")`` with a cold cache (what a first visit costs), by a plain rasterio read of
the same window from the same server (the baseline: int8 codes, no decoding), by ``open_source(url)`` of the same
file (the same decoding to float32 vectors and mask, without the index and the cache: what the release layer adds),
and again through the release after a restart (a new cache server on the same folder, so neither GDAL's memory
nor ours is reused: only the disk). Bytes are counted on the
server and compared with the compressed size of the blocks the view needs, read from the file's own TIFF header.
The index look-up is timed on a synthetic index the size of the published one.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.windows import Window

from aef_widgets.core.grid import LONLAT, Grid, transform_bounds
from aef_widgets.sources import open_source, release_cache
from aef_widgets.sources.rasterfile import GDAL_OPTIONS
from aef_widgets.sources.release import open_release
from aef_widgets.sources.release_index import ReleaseIndex
from aef_widgets.sources.sample import write_embedding_cog

from .measure import median, timed
from .settings import Settings

LATENCY_S = 0.05
BLOCK = 256


def release_view(_inputs: Any, settings: Settings, scratch: Path) -> dict[str, Any]:
    from tests.http_server import serve
    from tests.release_data import tile_byte_ranges, tile_codes, write_index

    side = settings.release_view
    offset = BLOCK // 2  # the view starts mid-block, as a user's view does
    tile_px = side + BLOCK
    root = scratch / "release"
    relpath = "2024/16N/bench.tiff"
    path = root / "v1" / "annual" / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    transform = Affine(10, 0, 500000, 0, -10, 5000000)
    write_embedding_cog(path, tile_codes(tile_px, seed=7), "EPSG:32616", transform, {"YEAR": "2024"})
    bounds = (500000.0, 5000000.0 - 10 * tile_px, 500000.0 + 10 * tile_px, 5000000.0)
    lonlat = transform_bounds(bounds, "EPSG:32616", LONLAT)
    row = (0, f"s3://mirror/v1/annual/{relpath}", 2024, "16N", "EPSG:32616", *lonlat, *bounds)
    write_index(root / "v1" / "annual" / "aef_index.parquet", [row])

    window = Window(offset, offset, side, side)
    needed = _needed_bytes(tile_byte_ranges(path), tile_px, window)
    runs = max(2, settings.repeats)
    rows: dict[str, list[float]] = {"release_cold_s": [], "rasterio_s": [], "decoded_s": [], "release_reopen_s": []}
    fetched, reopen_requests = [], []
    with serve(root, latency=LATENCY_S) as (url, log):
        for run in range(runs):  # interleaved, so a busy moment of the shared machine hits both alike
            with tempfile.TemporaryDirectory(dir=scratch) as cache_dir:
                source = open_release(url=url, cache_dir=cache_dir)
                grid = Grid(transform @ Affine.translation(offset, offset), side, side, CRS.from_epsg(32616))
                log.reset()
                seconds, field = timed(lambda source=source, grid=grid: source.read_window(grid, 2024))
                rows["release_cold_s"].append(seconds)
                fetched.append(log.bytes_sent)
                assert field.mask.all()

                log.reset()
                seconds, _ = timed(lambda run=run: _plain_read(f"{url}/v1/annual/{relpath}?run={run}", window))
                rows["rasterio_s"].append(seconds)
                plain_bytes = log.bytes_sent

                # the same file as a plain GeoTIFF URL: the same decoding to float32, without index or cache
                geotiff = open_source({2024: f"{url}/v1/annual/{relpath}?decoded={run}"})
                seconds, _ = timed(lambda g=geotiff, grid=grid: g.read_window(grid, 2024))
                rows["decoded_s"].append(seconds)

                _restart(source)
                reopened = open_release(url=url, cache_dir=cache_dir)
                log.reset()
                seconds, again = timed(lambda s=reopened, grid=grid: s.read_window(grid, 2024))
                rows["release_reopen_s"].append(seconds)
                reopen_requests.append(len(log.requests))
                assert np.array_equal(again.values, field.values, equal_nan=True)
                _restart(reopened)
    cold, plain, decoded = (median(rows[k]) for k in ("release_cold_s", "rasterio_s", "decoded_s"))
    return {
        "view_px": side,
        "tile_px": tile_px,
        "latency_ms": LATENCY_S * 1000,
        "needed_block_bytes": needed,
        "fetched_bytes": int(median(fetched)),
        "rasterio_fetched_bytes": plain_bytes,
        "bytes_ratio": median(fetched) / needed,
        "release_cold_s": cold,
        "rasterio_s": plain,
        "time_ratio": cold / plain,
        "geotiff_url_s": decoded,
        "time_ratio_vs_geotiff_url": cold / decoded,
        "release_reopen_s": median(rows["release_reopen_s"]),
        "reopen_requests": max(reopen_requests),
        "runs": runs,
        "index_lookup_ms": _index_lookup_ms(),
        "gdal_http": {k: v for k, v in GDAL_OPTIONS.items() if k.startswith(("GDAL_HTTP", "CPL_VSIL"))},
    }


def _needed_bytes(ranges: tuple[list[int], list[int]], tile_px: int, window: Window) -> int:
    """Compressed bytes of the full-resolution blocks a window touches (blocks are row-major in the header)."""
    _, counts = ranges
    per_row = math.ceil(tile_px / BLOCK)
    rows = range(window.row_off // BLOCK, math.ceil((window.row_off + window.height) / BLOCK))
    cols = range(window.col_off // BLOCK, math.ceil((window.col_off + window.width) / BLOCK))
    return int(sum(counts[r * per_row + c] for r in rows for c in cols))


def _plain_read(url: str, window: Window) -> np.ndarray:
    with rasterio.Env(**GDAL_OPTIONS), rasterio.open(f"/vsicurl/{url}") as ds:
        return ds.read(window=window)


def _restart(source) -> None:
    """Forget the cache's server and connections, as the end of a process would (the disk stays)."""
    source.cache.close()
    release_cache._caches.pop(source.cache.folder.resolve(), None)


def _index_lookup_ms(rows_per_year: int = 40_000, years: int = 9) -> float:
    """Median time of finding the tiles under a view in an index of ``years`` x ``rows_per_year`` rows."""
    rng = np.random.default_rng(0)
    n = rows_per_year * years
    west, south = rng.uniform(-180, 179, n), rng.uniform(-60, 75, n)
    table = pa.table({
        "path": [f"v1/annual/{2017 + i % years}/x/{i}.tiff" for i in range(n)],
        "year": [2017 + i % years for i in range(n)], "crs": ["EPSG:32616"] * n,
        "wgs84_west": west, "wgs84_south": south, "wgs84_east": west + 0.7, "wgs84_north": south + 0.7,
        "utm_west": np.zeros(n), "utm_south": np.zeros(n), "utm_east": np.ones(n), "utm_north": np.ones(n),
    })  # fmt: skip
    index = ReleaseIndex(table, "https://mirror/v1/annual")
    times = [timed(lambda: index.lookup((10.0, 45.0, 10.2, 45.1), 2024))[0] for _ in range(200)]
    return median(times) * 1000
