"""Reads that take what they need, once: three bands of 64 for an RGB composite, and chunks laid on the files'
own tile lattice, so a stream decodes (and fetches) each tile of each band exactly once.

The files are shaped like the public release: int8 codes of real vectors, nodata -128, tiled, band-separate
(``INTERLEAVE=BAND``: each band's tiles stored apart, so three bands are three tiles' bytes), ZSTD, top-down or
bottom-up. Source Cooperative's description of the release (tge-labs/aef) gives 1024 px tiles, band-separate, ZSTD,
int8 with nodata -128; tiles here are smaller (256-512 px) to keep the tests light, which the planning must not
care about: it follows whatever block size the file declares.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.windows import Window

from aef_widgets import LocalEngine, open_source
from aef_widgets.analysis.composite import BandStretch, band_composite
from aef_widgets.core.bands import band_index
from aef_widgets.core.field import BandField
from aef_widgets.core.grid import Grid
from aef_widgets.engines.workflows import stream_grid
from aef_widgets.rendering.view import MapView
from aef_widgets.sources.base import subgrid
from tests.http_server import serve
from tests.release_data import tile_byte_ranges, tile_codes
from tests.sources.test_release_reads import decoded_tiles

RGB = tuple(band_index(b) for b in BandStretch().bands)


def write_band_separate(path, codes: np.ndarray, block: int, bottom_up: bool = False, overviews=(2, 4)) -> str:
    """``codes`` (rows, cols, 64) int8, top row first, as a tiled band-separate ZSTD GeoTIFF with overviews."""
    rows, cols, _ = codes.shape
    left, top = 500000.0, 5000000.0
    if bottom_up:
        transform, data = Affine(10, 0, left, 0, 10, top - 10 * rows), codes[::-1]
    else:
        transform, data = Affine(10, 0, left, 0, -10, top), codes
    profile = dict(
        driver="GTiff", width=cols, height=rows, count=64, dtype="int8", nodata=-128, crs="EPSG:32616",
        transform=transform, tiled=True, blockxsize=block, blockysize=block, interleave="band", compress="zstd",
    )  # fmt: skip
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(np.ascontiguousarray(np.moveaxis(data, -1, 0)))
        ds.update_tags(YEAR="2024")
        if overviews:
            ds.build_overviews(list(overviews), rasterio.enums.Resampling.nearest)
    return str(path)


def codes_with_gaps(size: int, seed: int) -> np.ndarray:
    codes = tile_codes(size, seed)
    codes[size // 3 : size // 3 + 40, 10:200] = -128  # a missing strip: nodata in every band, as the release has
    return codes


@pytest.mark.parametrize("bottom_up", [False, True])
def test_band_reads_are_the_bands_of_a_full_read(tmp_path, bottom_up):
    path = write_band_separate(tmp_path / "t.tif", codes_with_gaps(512, 1), 256, bottom_up)
    source = open_source({2024: path})
    whole = source.grid()
    grids = [
        subgrid(whole, Window(37, 101, 300, 250)),  # 10 m, not on the tile lattice
        source.grid(None, resolution=20),  # an overview
        Grid(whole.transform @ Affine.translation(-50.5, 20), 200, 160, whole.crs),  # off the lattice: warped
    ]
    for grid in grids:
        full = source.read_window(grid, 2024)
        got = source.read_bands(grid, 2024, RGB)
        assert isinstance(got, BandField) and got.bands == RGB and got.values.shape == (*grid.shape, 3)
        np.testing.assert_array_equal(got.mask, full.mask)
        np.testing.assert_array_equal(got.values, full.values[..., list(RGB)])
        assert (~got.mask).any() and got.mask.any()  # the nodata strip or the off-file pixels are in every grid
    rgb = band_composite(source.read_bands(grids[0], 2024, RGB))
    np.testing.assert_array_equal(rgb, band_composite(source.read_window(grids[0], 2024)))


def test_a_band_field_is_not_a_field_of_vectors(tmp_path):
    path = write_band_separate(tmp_path / "t.tif", tile_codes(256, 2), 256, overviews=())
    source = open_source({2024: path})
    bands = source.read_bands(source.grid(), 2024, (5, 2))
    assert bands.names == ("A05", "A02")
    np.testing.assert_array_equal(bands.band(2), source.read_window(source.grid(), 2024).values[..., 2])
    with pytest.raises(KeyError, match="A09 was not read; this field holds A05, A02"):
        bands.band(9)
    assert not hasattr(bands, "norms") and not hasattr(bands, "valid_vectors")


def needed_bytes(path, bands, window: Window, block: int, shape) -> int:
    """Compressed bytes of the full-resolution tiles of ``bands`` (0-based) under ``window``, from the TIFF header:
    band-separate files list every tile of band 1, then of band 2, and so on."""
    _, counts = tile_byte_ranges(path)
    per_row, per_col = math.ceil(shape[1] / block), math.ceil(shape[0] / block)
    rows = range(window.row_off // block, math.ceil((window.row_off + window.height) / block))
    cols = range(window.col_off // block, math.ceil((window.col_off + window.width) / block))
    return sum(counts[b * per_row * per_col + r * per_row + c] for b in bands for r in rows for c in cols)


def test_an_rgb_view_fetches_only_its_three_bands(tmp_path):
    path = write_band_separate(tmp_path / "t.tif", tile_codes(512, 3), 256, overviews=())
    with serve(tmp_path) as (url, log):
        source = open_source({2024: f"{url}/t.tif"})
        engine = LocalEngine(source)
        view = MapView(*subgrid(source.grid(), Window(100, 60, 300, 300)).lonlat_bounds(), 300, 300)
        grid = engine.view_grid(view)  # 10 m, over 4 tile positions
        log.reset()
        layer = engine.rgb(2024, BandStretch()).layer(engine.context, view)
        rgb_fetched = log.bytes_sent
        log.reset()
        full = source.read_window(grid, 2024)
        full_fetched = log.bytes_sent
        drawn, _ = engine.view_bands(2024, view, RGB)
    assert layer is not None and grid.resolution == 10
    col, row = ~source.grid().transform @ (grid.transform.c, grid.transform.f)
    window = Window(round(col), round(row), grid.width, grid.height)
    rgb_bytes = needed_bytes(path, RGB, window, 256, (512, 512))
    others = needed_bytes(path, [b for b in range(64) if b not in RGB], window, 256, (512, 512))
    # its tiles, in the 16 kB pieces GDAL fetches one band's tiles in (these tiles are small: 20-40 kB), plus the
    # file's header up to once more per band: on a busy machine each band's thread may open its dataset before the
    # header is cached (all 64 bands would be 20x the tiles)
    header = _pieces(0, min(tile_byte_ranges(path)[0]))
    tiles = sum(_pieces(o, n) for o, n in tiles_of(path, RGB, window, 256, (512, 512)))
    assert rgb_bytes <= rgb_fetched <= tiles + len(RGB) * header
    # the 61 other bands were fetched only by the full read (the three may come again from GDAL's HTTP cache: in a
    # clean-clone CI run it fetched 3.54 MB of the 3.71 MB of all 64 bands' tiles)
    assert others <= full_fetched
    np.testing.assert_array_equal(drawn.values, full.values[..., list(RGB)])  # what the layer drew


def _pieces(offset: int, count: int, piece: int = 16384) -> int:
    """Bytes of the whole ``piece``-aligned pieces holding a tile."""
    return (-(-(offset + count) // piece) - offset // piece) * piece


def tiles_of(path, bands, window: Window, block: int, shape) -> list[tuple[int, int]]:
    """(offset, bytes) of the full-resolution tiles of ``bands`` under ``window`` (band after band, row-major)."""
    offsets, counts = tile_byte_ranges(path)
    per_row, per_col = math.ceil(shape[1] / block), math.ceil(shape[0] / block)
    rows = range(window.row_off // block, math.ceil((window.row_off + window.height) / block))
    cols = range(window.col_off // block, math.ceil((window.col_off + window.width) / block))
    index = [b * per_row * per_col + r * per_row + c for b in bands for r in rows for c in cols]
    return [(offsets[i], counts[i]) for i in index]


@pytest.mark.parametrize("bottom_up", [False, True])
def test_a_stream_decodes_each_tile_once(tmp_path, monkeypatch, bottom_up):
    """Each tile of each band under the AOI is decoded exactly once, though the AOI is off the tile lattice."""
    block = 512
    write_band_separate(tmp_path / "t.tif", tile_codes(1024, 4), block, bottom_up, overviews=())
    with serve(tmp_path) as (url, log):
        source = open_source({2024: f"{url}/t.tif"})
        grid = subgrid(source.grid(), Window(70, 300, 954, 700))  # 4 tile positions, none whole
        decodes = decoded_tiles(monkeypatch, 1024, block)
        got = {(w.row_off, w.col_off): f for w, f in stream_grid(source, grid, 2024, None)}
        assert sorted(decodes) == sorted({(b, r, c) for b in range(1, 65) for r in range(2) for c in range(2)})
        monkeypatch.undo()
        whole = source.read_window(grid, 2024).values
    values = np.empty((*grid.shape, 64), dtype=np.float32)
    for (r, c), f in got.items():
        values[r : r + f.shape[0], c : c + f.shape[1]] = f.values
    np.testing.assert_array_equal(values, whole)
