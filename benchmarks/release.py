"""Workload 6: the public release over HTTP, from a file built like the real ones, served like a CDN.

The file is ``tests/release_real``'s: 64 int8 bands stored band-separate in 1024 px ZSTD tiles (~0.6 MB a band
tile), bottom-up, BigTIFF, overviews to 1 px; 2048 px, so 2 x 2 tile positions. The server (``tests/http_server``,
in its own process) adds 50 ms to every request and shares a 25 MB/s cap among all connections. A 1024 px view at
10 m, off the tile lattice, touches all four tile positions. Through ``open_source("release")`` as a user opens it
(a new disk cache each run, a new server each scenario so GDAL's memory of the last one is no help):

- the first RGB view: three bands of the view (``read_bands``), against the compressed tiles of those three bands;
- the first picture a map shows of it: the same three bands from the overview ``PREVIEW_FACTOR`` times coarser, as
  the RGB layer of a remote source draws first, then the full view (what it adds to the time and bytes);
- a similarity view: the click's pixel, then all 64 bands of the view, against the 64 bands' tiles;
- a second click in the same tile position: requests and milliseconds;
- a plain rasterio read of the view's 64 bands (int8 codes, no decoding) on the same server: the baseline;
- the view again after a restart, from the disk cache: requests;
- k-means of the whole file (4 tile positions), streamed: how many times GDAL decoded each band tile per pass.

The transfer floor of a read is the bytes it needs over the bandwidth plus one latency per round trip that cannot
be merged: the header, then the tiles (fetched in parallel). Tile byte ranges come from the file's own header.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import rasterio
import rasterio.io
from pyproj import Transformer
from rasterio.windows import Window

from aef_widgets.analysis.composite import BandStretch
from aef_widgets.analysis.kmeans import EmbeddingKMeans
from aef_widgets.core.aoi import AOI
from aef_widgets.core.bands import band_index
from aef_widgets.core.quantization import dequantize
from aef_widgets.engines.context import PREVIEW_FACTOR
from aef_widgets.engines.workflows import cluster_grid
from aef_widgets.sources import release_cache
from aef_widgets.sources.gdal_env import GDAL_OPTIONS
from aef_widgets.sources.release import open_release
from aef_widgets.sources.release_index import ReleaseIndex

from .measure import median, timed
from .settings import Settings

LATENCY_S = 0.05
BANDWIDTH = 25e6
#: Round trips of a cold read that cannot be merged: the header, then the tiles.
ROUND_TRIPS = 2
RGB = tuple(band_index(b) for b in BandStretch().bands)


def release_view(_inputs: Any, settings: Settings, scratch: Path) -> dict[str, Any]:
    from tests.release_data import LAYOUTS, tile_byte_ranges
    from tests.release_real import BLOCK, build_real_release, real_file

    side = settings.release_view
    size = max(BLOCK, 2 * side)  # 2048 px, 2 x 2 tile positions, for the full suite's 1024 px view
    start = size // 2 - side // 2 + 8  # off the tile lattice: across both tile edges (when there are two)
    view = (slice(start, start + side), slice(start, start + side))
    clicks_px = ((start + 100, start + 100), (start + 150, start + 60))  # in one tile position
    f = real_file(size)
    root = scratch / "release-real"
    build_real_release(root, "gcs", [f])
    sub = LAYOUTS["gcs"][0].rsplit("/v1/annual", 1)[0]
    path = root / LAYOUTS["gcs"][0] / f.relpath
    offsets, counts = tile_byte_ranges(path)
    tiles = _Tiles(offsets, counts, size, BLOCK)
    rgb_needed = tiles.bytes(RGB, *view)
    all_needed = tiles.bytes(range(64), *view)
    aoi = _aoi(f, *view)
    clicks = [_lonlat(f, r, c) for r, c in clicks_px]
    expected = dequantize(f.codes[view])
    rows: dict[str, list[float]] = {k: [] for k in (
        "rgb_s", "rgb_bytes", "rgb_header", "similarity_s", "similarity_bytes", "similarity_header",
        "preview_s", "preview_bytes", "preview_full_s", "preview_total_bytes",
        "click_s", "second_click_s", "second_click_requests", "plain_s", "plain_bytes", "view64_s", "reopen_requests",
    )}  # fmt: skip
    for run in range(max(settings.min_runs, settings.repeats)):
        with tempfile.TemporaryDirectory(dir=scratch) as cache_dir, _server(root) as (url, log):
            # the first picture: three bands
            source = open_release(url=f"{url}/{sub}", cache_dir=cache_dir)
            grid = source.grid(aoi)
            log.reset()
            seconds, bands = timed(lambda s=source, g=grid: s.read_bands(g, 2024, RGB))
            np.testing.assert_array_equal(bands.values, expected[..., list(RGB)])
            rows["rgb_s"].append(seconds)
            rows["rgb_bytes"].append(log.bytes_sent)
            rows["rgb_header"].append(_header_bytes(log.requests, offsets))
            _restart(source)
        with tempfile.TemporaryDirectory(dir=scratch) as cache_dir, _server(root) as (url, log):
            # the map's first picture: the coarse overview's three bands, then the full view
            source = open_release(url=f"{url}/{sub}", cache_dir=cache_dir)
            grid = source.grid(aoi)
            coarse = source.grid(aoi, resolution=grid.resolution * PREVIEW_FACTOR)
            log.reset()
            seconds, preview = timed(lambda s=source, g=coarse: s.read_bands(g, 2024, RGB))
            assert preview.values.shape == (*coarse.shape, 3) and preview.mask.any()
            rows["preview_s"].append(seconds)
            rows["preview_bytes"].append(log.bytes_sent)
            full_s, bands = timed(lambda s=source, g=grid: s.read_bands(g, 2024, RGB))
            np.testing.assert_array_equal(bands.values, expected[..., list(RGB)])
            rows["preview_full_s"].append(seconds + full_s)
            rows["preview_total_bytes"].append(log.bytes_sent)
            _restart(source)
        with tempfile.TemporaryDirectory(dir=scratch) as cache_dir, _server(root) as (url, log):
            # a similarity view: the click, then all 64 bands of the view
            source = open_release(url=f"{url}/{sub}", cache_dir=cache_dir)
            grid = source.grid(aoi)
            log.reset()
            click, vector = timed(lambda s=source: s.sample(clicks[:1], 2024))
            seconds, field = timed(lambda s=source, g=grid: s.read_window(g, 2024))
            np.testing.assert_array_equal(field.values, expected)
            np.testing.assert_array_equal(vector[0], dequantize(f.codes[clicks_px[0]]))
            rows["click_s"].append(click)
            rows["view64_s"].append(seconds)
            rows["similarity_s"].append(click + seconds)
            rows["similarity_bytes"].append(log.bytes_sent)
            rows["similarity_header"].append(_header_bytes(log.requests, offsets))
            log.reset()
            seconds, _ = timed(lambda s=source: s.sample(clicks[1:], 2024))
            rows["second_click_s"].append(seconds)
            rows["second_click_requests"].append(len(log.requests))

            log.reset()  # the same view by plain rasterio, from a URL GDAL has not seen
            plain = f"{url}/{sub}/v1/annual/{f.relpath}?plain={run}"
            window = Window(start, size - start - side, side, side)  # bottom-up: rows from the bottom
            seconds, _ = timed(lambda p=plain, w=window: _plain_read(p, w))
            rows["plain_s"].append(seconds)
            rows["plain_bytes"].append(log.bytes_sent)

            _restart(source)
            reopened = open_release(url=f"{url}/{sub}", cache_dir=cache_dir)
            log.reset()
            again = reopened.read_window(grid, 2024)
            rows["reopen_requests"].append(len(log.requests))
            assert np.array_equal(again.values, field.values, equal_nan=True)
            _restart(reopened)
    stream = _stream_decodes(root, sub, f, tiles)
    m = {k: median(v) for k, v in rows.items()}
    rgb_floor = (rgb_needed + m["rgb_header"]) / BANDWIDTH + ROUND_TRIPS * LATENCY_S
    preview_floor = m["preview_bytes"] / BANDWIDTH + ROUND_TRIPS * LATENCY_S
    sim_floor = (all_needed + m["similarity_header"]) / BANDWIDTH + ROUND_TRIPS * LATENCY_S
    return {
        "file_px": size, "tile_px": BLOCK, "view_px": side, "latency_ms": LATENCY_S * 1000,
        "bandwidth_mb_s": BANDWIDTH / 1e6, "runs": len(rows["rgb_s"]),
        "rgb_needed_bytes": rgb_needed, "rgb_fetched_bytes": m["rgb_bytes"], "rgb_header_bytes": m["rgb_header"],
        "rgb_bytes_ratio": (m["rgb_bytes"] - m["rgb_header"]) / rgb_needed,
        "rgb_s": m["rgb_s"], "rgb_floor_s": rgb_floor, "rgb_time_ratio": m["rgb_s"] / rgb_floor,
        "preview_factor": PREVIEW_FACTOR, "preview_s": m["preview_s"], "preview_bytes": m["preview_bytes"],
        "preview_floor_s": preview_floor, "preview_time_ratio": m["preview_s"] / preview_floor,
        "preview_full_s": m["preview_full_s"], "preview_total_bytes": m["preview_total_bytes"],
        "similarity_needed_bytes": all_needed, "similarity_fetched_bytes": m["similarity_bytes"],
        "similarity_header_bytes": m["similarity_header"],
        "similarity_bytes_ratio": (m["similarity_bytes"] - m["similarity_header"]) / all_needed,
        "similarity_s": m["similarity_s"], "click_s": m["click_s"], "view64_s": m["view64_s"],
        "similarity_floor_s": sim_floor, "similarity_time_ratio": m["similarity_s"] / sim_floor,
        "second_click_ms": m["second_click_s"] * 1000, "second_click_requests": max(rows["second_click_requests"]),
        "rasterio_s": m["plain_s"], "rasterio_fetched_bytes": m["plain_bytes"],
        "time_ratio": m["view64_s"] / m["plain_s"],
        "reopen_requests": max(rows["reopen_requests"]),
        **stream,
        "index_lookup_ms": _index_lookup_ms(),
        "gdal_http": {k: v for k, v in GDAL_OPTIONS.items() if k.startswith(("GDAL_HTTP", "CPL_VSIL"))},
    }  # fmt: skip


class _Tiles:
    """Byte ranges of a bottom-up band-separate file's full-resolution tiles (band after band, bottom row first)."""

    def __init__(self, offsets: list[int], counts: list[int], size: int, block: int) -> None:
        self.offsets, self.counts, self.size, self.block = offsets, counts, size, block
        self.per_side = size // block

    def index(self, bands, rows: slice, cols: slice) -> list[int]:
        first, last = (self.size - rows.stop) // self.block, (self.size - rows.start - 1) // self.block
        c0, c1 = cols.start // self.block, (cols.stop - 1) // self.block
        n = self.per_side
        return [b * n * n + r * n + c for b in bands for r in range(first, last + 1) for c in range(c0, c1 + 1)]

    def bytes(self, bands, rows: slice, cols: slice) -> int:
        return int(sum(self.counts[i] for i in self.index(bands, rows, cols)))


def _stream_decodes(root: Path, sub: str, f, tiles: _Tiles) -> dict[str, Any]:
    """k-means of the whole file, streamed: how many times GDAL decoded each band tile (2 passes: sample, label),
    counted at rasterio's read (each read opens its own dataset, so a tile its window touches is decoded once)."""
    everything = (slice(0, tiles.size), slice(0, tiles.size))
    decodes: dict[tuple, int] = {}
    original = rasterio.io.DatasetReader.read

    def read(ds, indexes=None, *args, window=None, **kwargs):
        if window is not None and ds.width == tiles.size and ds.block_shapes[0] == (tiles.block, tiles.block):
            b = tiles.block
            r0, c0 = int(window.row_off) // b, int(window.col_off) // b
            r1, c1 = (int(window.row_off + window.height) - 1) // b, (int(window.col_off + window.width) - 1) // b
            for band in [indexes] if isinstance(indexes, int) else list(indexes or range(1, ds.count + 1)):
                for key in ((band, r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)):
                    decodes[key] = decodes.get(key, 0) + 1
        return original(ds, indexes, *args, window=window, **kwargs)

    with _server(root) as (url, log):
        source = open_release(url=f"{url}/{sub}", cache=False)
        grid = source.grid(_aoi(f, *everything))
        log.reset()
        rasterio.io.DatasetReader.read = read
        try:
            seconds, labels = timed(lambda: cluster_grid(source, grid, 2024, None, EmbeddingKMeans(n_clusters=8)))
        finally:
            rasterio.io.DatasetReader.read = original
        fetched = log.bytes_sent
    return {
        "stream_band_tiles": len(decodes),
        "stream_decodes_per_tile": sorted(set(decodes.values())),
        "stream_passes": 2,
        "stream_s": seconds,
        "stream_fetched_bytes": fetched,
        "stream_needed_bytes": tiles.bytes(range(64), *everything),
        "stream_labelled_px": int((labels >= 0).sum()),
    }


def _header_bytes(requests, offsets: list[int]) -> int:
    """Bytes of the requests before the first tile (the header, read when a file is opened)."""
    from tests.http_server import byte_ranges  # the test server's log, as the rest of this workload

    first = min(offsets)
    return int(sum(min(b, first - 1) - a + 1 for a, b in byte_ranges(requests) if a < first))


@contextlib.contextmanager
def _server(root: Path):
    from tests.http_server import serve

    with serve(root, latency=LATENCY_S, bandwidth=BANDWIDTH, process=True) as served:
        yield served


def _aoi(f, rows: slice, cols: slice) -> AOI:
    """Whole pixels rows x cols of the file (top-down), in its CRS, shrunk a little so edges stay inside."""
    left, top = f.transform @ (cols.start + 0.01, rows.start + 0.01)
    right, bottom = f.transform @ (cols.stop - 0.01, rows.stop - 0.01)
    return AOI.from_bounds(left, bottom, right, top, crs=f.crs)


def _lonlat(f, row: int, col: int) -> tuple[float, float]:
    to_lonlat = Transformer.from_crs(f.crs, "EPSG:4326", always_xy=True)
    return to_lonlat.transform(*(f.transform @ (col + 0.5, row + 0.5)))


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
