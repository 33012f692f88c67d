"""The release read from files built like the real ones (band-separate 1024 px ZSTD tiles, bottom-up, overviews
to 1 px) on a CDN-like server in another process, in both mirror layouts: values against the codes written."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import rasterio
from pyproj import Transformer

from aef_widgets.core.aoi import AOI
from tests.release_real import BLOCK, SIZE
from tests.sources.test_release import _aoi_in_pixels, _dequantize


def _tags(path) -> dict[int, tuple]:
    """The first IFD's tags of a BigTIFF, read with ``struct``: an account independent of GDAL."""
    with open(path, "rb") as f:
        head = f.read(16)
        assert head[:4] == b"II+\x00", "not a little-endian BigTIFF"
        f.seek(struct.unpack("<Q", head[8:16])[0])
        n = struct.unpack("<Q", f.read(8))[0]
        out = {}
        for _ in range(n):
            tag, kind, count, value = struct.unpack("<HHQ8s", f.read(20))
            fmt = {3: "H", 4: "I", 12: "d", 16: "Q"}.get(kind)
            size = struct.calcsize(fmt) * count if fmt else 0
            if fmt and size <= 8:
                out[tag] = struct.unpack("<" + fmt * count, value[:size])
            elif fmt:
                here = f.tell()
                f.seek(struct.unpack("<Q", value)[0])
                out[tag] = struct.unpack("<" + fmt * count, f.read(size))
                f.seek(here)
        return out


def test_the_fixture_is_laid_out_like_the_real_files(real_roots, real_files):
    f = real_files[0]
    path = real_roots["source-coop"] / "tge-labs/aef/v1/annual" / f.relpath
    tags = _tags(path)
    assert tags[284] == (2,)  # PlanarConfiguration: separate (band after band)
    assert tags[322] == (BLOCK,) and tags[323] == (BLOCK,)  # tile width and length
    assert tags[259] == (50000,)  # ZSTD
    assert tags[277] == (64,) and tags[258][0] == 8 and tags[339][0] == 2  # 64 signed 8-bit samples
    matrix = tags[34264]  # ModelTransformationTag: x = a*col + c, y = e*row + f with e > 0 (bottom-up)
    assert matrix[0] == 10 and matrix[5] == 10 and 33550 not in tags
    assert len(tags[324]) == 64 * (SIZE // BLOCK) ** 2  # one tile per band per tile position
    per_band_tile = np.mean(tags[325])
    assert 0.45e6 < per_band_tile < 0.8e6  # compressed like the real data: about 0.6 MB
    with rasterio.open(path) as ds:
        assert ds.transform.e == 10 and ds.overviews(1)[-1] == SIZE  # overviews down to 1 px
        assert ds.interleaving.name == "band" and ds.nodata == -128
    for layout in ("gcs", "source-coop"):  # both mirrors hold the same bottom-up bytes
        other = next((real_roots[layout]).rglob(f"{f.name}.tiff"))
        assert other.read_bytes()[:4096] == path.read_bytes()[:4096]


def _points(f, pixels: list[tuple[int, int]]) -> list[tuple[float, float]]:
    to_lonlat = Transformer.from_crs(f.crs, "EPSG:4326", always_xy=True)
    return [to_lonlat.transform(*(f.transform @ (c + 0.5, r + 0.5))) for r, c in pixels]


PIXELS = [(0, 0), (5, 2000), (1023, 1023), (1024, 1024), (2047, 10), (1500, 300), (2040, 2040)]


@pytest.mark.parametrize("cache", [False])
def test_points_are_the_codes_written(real_release, real_files, cache):
    f = real_files[0]
    source = real_release.open(cache=cache)
    got = source.sample(_points(f, PIXELS), 2024)
    expected = np.stack([_dequantize(f.codes[r, c]) for r, c in PIXELS])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-7)
    assert np.isnan(got[-1]).all()  # the sea corner is nodata, not data


@pytest.mark.parametrize("cache", [False])
def test_an_unaligned_10m_view_across_four_tiles_is_exact(real_release, real_files, cache):
    f = real_files[0]
    rows, cols = slice(1001, 1100), slice(950, 1090)  # across both 1024 px tile edges
    field = real_release.open(cache=cache).read(_aoi_in_pixels(f, rows, cols), 2024)
    assert field.grid.shape == (99, 140)
    np.testing.assert_allclose(field.values, _dequantize(f.codes[rows, cols]), rtol=0, atol=1e-7)


def test_a_view_by_lon_lat_lands_on_the_file_lattice(real_release, real_files):
    f = real_files[0]
    lon, lat = _points(f, [(700, 1300)])[0]
    aoi = AOI.from_bounds(lon - 0.002, lat - 0.002, lon + 0.002, lat + 0.002)
    field = real_release.open(cache=False).read(aoi, 2024)
    col, row = ~f.transform @ (field.grid.transform.c, field.grid.transform.f)
    assert col == round(col) and row == round(row)
    r, c = int(row), int(col)
    h, w = field.grid.shape
    inside = field.mask  # a lon/lat box is a slanted quadrilateral in UTM: pixels outside it are not the AOI's
    assert inside.mean() > 0.9
    expected = _dequantize(f.codes[r : r + h, c : c + w])
    np.testing.assert_allclose(field.values[inside], expected[inside], rtol=0, atol=1e-7)
    assert np.isnan(field.values[~inside]).all()
