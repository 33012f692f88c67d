"""The release read as its files are laid out (band-separate 1024 px tiles, bottom-up): an RGB view fetches its
three bands' tiles only, a stream fetches and decodes each band tile once, a second click in a tile position
fetches nothing. Counted on the server, against the tile byte ranges in the file's own header; values against the
codes written. See ``tests/release_real.py`` for who reports the real files' layout."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import rasterio.io

from aef_widgets.analysis.composite import BandStretch
from aef_widgets.core.bands import band_index
from aef_widgets.engines.workflows import stream_grid
from aef_widgets.sources import code_store
from tests.release_data import tile_byte_ranges
from tests.release_real import BLOCK, SIZE
from tests.sources.test_release import _aoi_in_pixels, _dequantize
from tests.sources.test_release_real import PIXELS, _points

RGB = tuple(band_index(b) for b in BandStretch().bands)
PER_SIDE = SIZE // BLOCK


def band_tiles(path, bands, rows: slice, cols: slice) -> list[tuple[int, int]]:
    """(offset, bytes) of the full-resolution tiles of ``bands`` under top-down ``rows`` x ``cols`` of a
    bottom-up band-separate file: its tile rows count from the bottom, band after band."""
    offsets, counts = tile_byte_ranges(path)
    first, last = (SIZE - rows.stop) // BLOCK, (SIZE - rows.start - 1) // BLOCK  # stored rows, bottom first
    out = []
    for b in bands:
        for r in range(first, last + 1):
            for c in range(cols.start // BLOCK, (cols.stop - 1) // BLOCK + 1):
                i = b * PER_SIDE**2 + r * PER_SIDE + c
                out.append((offsets[i], counts[i]))
    return out


def fetch_counts(tiles, requests) -> list[int]:
    """How many requests fetched each tile: those holding its middle byte. GDAL asks for a tile's exact range, or
    (reading one band's tiles) for 16 kB-aligned pieces, which a neighbour's read may share at the tile's ends but
    not in its middle. Reads of the header, from byte 0 when a file is opened, do not count."""
    spans = []
    for _, spec, _ in requests:
        if spec.startswith("bytes="):
            for part in spec[6:].split(","):
                a, _, b = part.strip().partition("-")
                if int(a) > 0:
                    spans.append((int(a), int(b)))
    return [sum(a <= o + n // 2 <= b for a, b in spans) for o, n in tiles]


def test_an_rgb_view_fetches_its_three_bands_only(real_release, real_files):
    f = real_files[0]
    path = real_release.file(f.relpath)
    rows, cols = slice(1001, 1100), slice(950, 1090)  # across both tile edges: 4 tile positions
    source = real_release.open(cache=False)
    grid = source.grid(_aoi_in_pixels(f, rows, cols))
    real_release.log.reset()
    got = source.read_bands(grid, 2024, RGB)
    requests, fetched = real_release.log.requests, real_release.log.bytes_sent
    np.testing.assert_allclose(got.values, _dequantize(f.codes[rows, cols][..., list(RGB)]), rtol=0, atol=1e-7)
    tiles = band_tiles(path, RGB, rows, cols)
    assert fetch_counts(tiles, requests) == [1] * 12
    needed = sum(n for _, n in tiles)
    assert needed <= fetched <= 1.15 * needed + 64 * 1024  # the 12 tiles, and headers at most


def decoded_tiles(monkeypatch, size: int = SIZE, block: int = BLOCK) -> list[tuple]:
    """Every band tile GDAL decodes, counted at rasterio's read (each read opens its own dataset, so GDAL decodes
    each tile a read's window touches once for that read): (band, tile row, tile column) per decode."""
    decodes: list[tuple] = []
    original = rasterio.io.DatasetReader.read

    def read(ds, indexes=None, *args, window=None, **kwargs):
        if window is not None and ds.block_shapes[0] == (block, block) and ds.width == size:  # full resolution
            r0, c0 = int(window.row_off) // block, int(window.col_off) // block
            r1 = (int(window.row_off + window.height) - 1) // block
            c1 = (int(window.col_off + window.width) - 1) // block
            bands = [indexes] if isinstance(indexes, int) else list(indexes or range(1, ds.count + 1))
            decodes.extend((b, r, c) for b in bands for r in range(r0, r1 + 1) for c in range(c0, c1 + 1))
        return original(ds, indexes, *args, window=window, **kwargs)

    monkeypatch.setattr(rasterio.io.DatasetReader, "read", read)
    return decodes


def test_a_stream_decodes_and_fetches_each_band_tile_once(real_release, real_files, monkeypatch):
    f = real_files[0]
    path = real_release.file(f.relpath)
    rows, cols = slice(700, 1500), slice(600, 1700)  # 4 tile positions, none whole, off the tile lattice
    source = real_release.open(cache=False)
    grid = source.grid(_aoi_in_pixels(f, rows, cols))
    decodes = decoded_tiles(monkeypatch)
    real_release.log.reset()
    values = np.empty((*grid.shape, 64), dtype=np.float32)
    for w, chunk in stream_grid(source, grid, 2024, None):
        values[w.row_off : w.row_off + w.height, w.col_off : w.col_off + w.width] = chunk.values
    assert sorted(decodes) == sorted({(b, r, c) for b in range(1, 65) for r in range(2) for c in range(2)})
    tiles = band_tiles(path, range(64), rows, cols)
    assert min(fetch_counts(tiles, real_release.log.requests)) == 1  # every band tile fetched
    needed = sum(n for _, n in tiles)
    assert real_release.log.bytes_sent <= 1.1 * needed  # and none twice
    np.testing.assert_allclose(values, _dequantize(f.codes[rows, cols]), rtol=0, atol=1e-7)


@pytest.fixture
def no_kept_tiles():
    code_store.clear()
    yield
    code_store.clear()


def test_a_second_click_in_a_tile_position_fetches_nothing(real_release, real_files, no_kept_tiles):
    f = real_files[0]
    source = real_release.open(cache=False)
    first, second = PIXELS[2], (1000, 10)  # both in the top-left tile position
    real_release.log.reset()
    a = source.sample(_points(f, [first]), 2024)
    assert real_release.log.requests  # the first click fetched the tile position
    real_release.log.reset()
    b = source.sample(_points(f, [second]), 2024)
    assert real_release.log.requests == []
    expected = np.stack([_dequantize(f.codes[r, c]) for r, c in (first, second)])
    np.testing.assert_allclose(np.concatenate([a, b]), expected, rtol=0, atol=1e-7)
    assert code_store.held_bytes() == 64 * BLOCK * BLOCK <= code_store.LARGEST_BLOCK  # one tile position kept
