"""The first picture of a remote view: a coarse overview first, then the full resolution, never a stale one.

Driven as the browser drives the Explorer (map state messages), against the file built like the release's
(``tests/release_real``: band-separate 1024 px ZSTD tiles, bottom-up, overviews to 1 px) on a loopback server in
its own process. The pictures are checked against the file read directly with rasterio, overview by overview.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import rasterio
from pyproj import Transformer
from rasterio.windows import Window

from aef_widgets.core.aoi import AOI
from aef_widgets.core.bands import DEFAULT_RGB_BANDS, DEFAULT_STRETCH
from aef_widgets.engines.context import PREVIEW_FACTOR
from aef_widgets.explorer import Explorer
from aef_widgets.rendering.view import Resampler
from aef_widgets.sources import open_source
from aef_widgets.widgets import JobRunner
from aef_widgets.widgets.map_view import view_of
from tests.http_server import byte_ranges
from tests.release_real import EPSG, LEFT, SIZE, TOP
from tests.widgets.frontend import ManualExecutor, rgba, send_state

RGB_BANDS = [int(b[1:]) + 1 for b in DEFAULT_RGB_BANDS]  # file bands of A01, A16, A09
#: Zoom 14 at 44 N: about 7 m of ground a screen pixel, so the view's data is read at 10 m (700 x 530 px).
ZOOM = 14


def _lat_lon(x: float, y: float) -> list[float]:
    lon, lat = Transformer.from_crs(f"EPSG:{EPSG}", "EPSG:4326", always_xy=True).transform(x, y)
    return [lat, lon]


#: The file's centre, where its four tile positions meet, and a place 3 km east.
CENTRE = _lat_lon(LEFT + 5 * SIZE, TOP - 5 * SIZE)
EAST = _lat_lon(LEFT + 5 * SIZE + 3000, TOP - 5 * SIZE)
#: The middle of the file's top-left tile position: a 10 m view there lies inside it.
QUADRANT = _lat_lon(LEFT + 2.5 * SIZE, TOP - 2.5 * SIZE)


def _expected(path, grid, overlay) -> np.ndarray:
    """The RGBA image of ``grid`` from the file read directly (the overview of its pixel size), on ``overlay``."""
    k = round(grid.resolution / 10)
    with rasterio.open(path) as ds:
        level = {} if k == 1 else {"overview_level": ds.overviews(1).index(k)}
    with rasterio.open(path, **level) as ds:
        t = ds.transform
        assert t.e > 0  # bottom-up: row 0 is the southern edge
        left, bottom, right, top = grid.bounds
        window = Window((left - t.c) / t.a, (bottom - t.f) / t.e, (right - left) / t.a, (top - bottom) / t.e)
        codes = ds.read(RGB_BANDS, window=window.round_offsets().round_lengths(), boundless=True, fill_value=-128)
    codes = np.moveaxis(codes[:, ::-1], 0, -1)  # bottom-up rows, north first
    assert codes.shape[:2] == grid.shape
    valid = (codes != -128).all(axis=-1)
    q = codes.astype(np.float64)
    values = (np.sign(q) * (q / 127.5) ** 2).astype(np.float32)
    vmin, vmax = DEFAULT_STRETCH
    colours = np.round(np.clip((values - np.float32(vmin)) / np.float32(vmax - vmin), 0, 1) * 255)
    image = np.zeros((*grid.shape, 4), np.uint8)
    image[..., :3] = np.where(valid[..., None], colours, 0)
    image[..., 3] = np.where(valid, 255, 0)
    return Resampler(grid, overlay)(image)


def _rgb_pictures(m) -> list[str]:
    """Every picture the RGB composite layer shows from now on, in order (new layers and new images)."""
    shown: list[str] = []
    seen: list = []

    def layers(change, new: bool = True) -> None:
        for layer in change["new"]:
            if layer.name == "RGB composite" and all(layer is not x for x in seen):
                seen.append(layer)
                if new:
                    shown.append(layer.url)
                layer.observe(lambda c: shown.append(c["new"]), names="url")

    layers({"new": m.layers}, new=False)  # the picture already shown is not one of them
    m.observe(layers, names="layers")
    return shown


def _until(condition, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def _grids(explorer, view):
    """(full-resolution grid, coarse grid, overlay grid) of a view, as the engine reads them."""
    engine, source = explorer.state.engine, explorer.state.source
    bounds = source.footprint.lonlat_bounds()
    grid = engine.view_grid(view)
    coarse = source.grid(AOI.from_bounds(*view.clipped(bounds)), resolution=grid.resolution * PREVIEW_FACTOR)
    return grid, coarse, view.overlay_grid(bounds)


def test_a_remote_view_shows_its_overview_then_its_full_resolution(real_release, real_files):
    path = real_release.file(real_files[0].relpath)
    pool = ManualExecutor()
    explorer = Explorer(real_release.open(), runner=JobRunner(pool))
    pool.run_all()
    shown = _rgb_pictures(explorer.map)
    real_release.log.reset()
    send_state(explorer.map, {"center": CENTRE, "zoom": ZOOM})  # the user zooms in to 10 m
    _until(lambda: pool.pending)  # after the pan's pause
    pool.run_all()
    view = view_of(explorer.map)
    grid, coarse, overlay = _grids(explorer, view)
    assert grid.resolution == 10 and coarse.resolution == 10 * PREVIEW_FACTOR
    assert len(shown) == 2  # the coarse picture, then the full one in its place
    first, final = rgba(shown[0]), rgba(shown[1])
    np.testing.assert_array_equal(first, _expected(path, coarse, overlay))  # the 80 m overview's pixels
    np.testing.assert_array_equal(final, _expected(path, grid, overlay))  # the 10 m pixels
    assert (first != final).any()
    # every byte fetched once: the full read fetched none of the coarse read's bytes again
    ranges = sorted(byte_ranges(real_release.log.requests))
    assert ranges
    assert all(b < c for (_, b), (c, _) in zip(ranges, ranges[1:])), f"a byte range was fetched twice: {ranges}"


def test_a_coarse_picture_of_a_previous_view_never_replaces_a_newer_full_one(real_release, real_files):
    runner = JobRunner(ThreadPoolExecutor(2))
    explorer = Explorer(real_release.open(), runner=runner)
    context = explorer.state.engine.context  # what products read the view through
    shown = _rgb_pictures(explorer.map)
    _until(lambda: shown and not runner._running)
    original, gate, held, finished = context.preview_bands, threading.Event(), threading.Event(), []

    def slow_first_preview(year, view, bands):  # the first view's overview arrives late, as on a slow server
        if not held.is_set():
            held.set()
            gate.wait(60)
            result = original(year, view, bands)
            finished.append(result)
            return result
        return original(year, view, bands)

    context.preview_bands = slow_first_preview
    send_state(explorer.map, {"center": CENTRE, "zoom": ZOOM})
    _until(held.is_set)
    before = len(shown)
    send_state(explorer.map, {"center": EAST, "zoom": ZOOM})  # the user moves on meanwhile
    newest = view_of(explorer.map)
    _, _, overlay = _grids(explorer, newest)
    _until(lambda: len(shown) == before + 2)  # the newer view's coarse picture, then its full one
    final = shown[-1]
    gate.set()
    _until(lambda: finished and not runner._running)
    time.sleep(0.2)
    assert finished[0] is not None  # the old view's coarse picture was read...
    assert shown[-1] == final and len(shown) == before + 2  # ...and never shown
    layer = next(x for x in explorer.map.layers if x.name == "RGB composite")
    assert layer.url == final
    (south, west), (north, east) = layer.bounds
    assert np.allclose((west, south, east, north), overlay.lonlat_bounds())


def test_a_local_file_draws_once(real_roots, real_files):
    source = open_source(str(real_roots["gcs"] / "satellite_embedding/v1/annual" / real_files[0].relpath))
    pool = ManualExecutor()
    explorer = Explorer(source, runner=JobRunner(pool))
    pool.run_all()
    shown = _rgb_pictures(explorer.map)
    send_state(explorer.map, {"center": CENTRE, "zoom": ZOOM})
    _until(lambda: pool.pending)
    pool.run_all()
    assert len(shown) == 1  # one picture of the new view, from one read
    assert explorer.state.engine.preview_bands(2024, view_of(explorer.map), (1, 16, 9)) is None


def test_a_remote_geotiff_with_overviews_is_drawn_overview_first_and_its_local_copy_is_not(gcs_release, release_tiles):
    relpath = release_tiles[0].relpath
    remote = open_source(f"{gcs_release.url}/v1/annual/{relpath}")  # a COG over HTTP, with overviews
    local = open_source(str(gcs_release.file(relpath)))
    assert remote.remote_overviews and not local.remote_overviews


def test_a_view_inside_one_tile_position_draws_once(real_release, real_files):
    """On a real 8192 px file the overview 8x coarser is one 1024 px tile a band: for a 10 m view inside one tile
    position the coarse read would fetch as many bytes as the full one and only delay it, so there is no first
    picture (here too the file's 8x overview is one tile, of 256 px)."""
    pool = ManualExecutor()
    explorer = Explorer(real_release.open(), runner=JobRunner(pool))
    pool.run_all()
    shown = _rgb_pictures(explorer.map)
    send_state(explorer.map, {"center": QUADRANT, "zoom": ZOOM})
    _until(lambda: pool.pending)
    pool.run_all()
    grid, coarse, _ = _grids(explorer, view_of(explorer.map))
    source = explorer.state.engine.source
    assert grid.resolution == 10 and len(source.chunk_windows(grid, 1)) == len(source.chunk_windows(coarse, 1)) == 1
    assert len(shown) == 1  # the full picture only
