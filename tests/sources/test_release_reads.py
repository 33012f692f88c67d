"""The release read as its files are laid out (band-separate 1024 px tiles, bottom-up): an RGB view fetches its
three bands' tiles only, a stream fetches and decodes each band tile once, a second click in a tile position
fetches nothing. Counted on the server, against the tile byte ranges in the file's own header; values against the
codes written. See ``tests/release_real.py`` for who reports the real files' layout."""

from __future__ import annotations

import numpy as np
import pytest

from aef_widgets.analysis.composite import BandStretch
from aef_widgets.core.bands import band_index
from aef_widgets.engines.workflows import stream_grid
from aef_widgets.sources import pixel_blocks, rasterfile
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
    """How many requests fetched each tile whole (ranges starting at a tile; header reads do not count)."""
    starts = {o for o, _ in tiles}
    spans = []
    for _, spec, _ in requests:
        if spec.startswith("bytes="):
            for part in spec[6:].split(","):
                a, _, b = part.strip().partition("-")
                if int(a) in starts:
                    spans.append((int(a), int(b)))
    return [sum(a <= o and o + n - 1 <= b for a, b in spans) for o, n in tiles]


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


def test_a_stream_fetches_each_band_tile_once(real_release, real_files, monkeypatch):
    """GDAL's HTTP cache is off for the server, so every decode is a fetch the server counts."""
    f = real_files[0]
    path = real_release.file(f.relpath)
    monkeypatch.setitem(rasterfile.GDAL_OPTIONS, "CPL_VSIL_CURL_NON_CACHED", "/vsicurl/" + real_release.url)
    rows, cols = slice(700, 1500), slice(600, 1700)  # 4 tile positions, none whole, off the tile lattice
    source = real_release.open(cache=False)
    grid = source.grid(_aoi_in_pixels(f, rows, cols))
    real_release.log.reset()
    values = np.empty((*grid.shape, 64), dtype=np.float32)
    for w, chunk in stream_grid(source, grid, 2024, None):
        values[w.row_off : w.row_off + w.height, w.col_off : w.col_off + w.width] = chunk.values
    tiles = band_tiles(path, range(64), rows, cols)
    assert fetch_counts(tiles, real_release.log.requests) == [1] * len(tiles) == [1] * 256
    np.testing.assert_allclose(values, _dequantize(f.codes[rows, cols]), rtol=0, atol=1e-7)


@pytest.fixture
def no_kept_tiles():
    pixel_blocks.clear()
    yield
    pixel_blocks.clear()


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
    assert pixel_blocks._held[0] == 64 * BLOCK * BLOCK <= pixel_blocks.MAX_BYTES  # one tile position kept
