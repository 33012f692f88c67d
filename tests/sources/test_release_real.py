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
    """The first IFD's tags of a BigTIFF (and at -1 the next IFD's offset), read with ``struct``: an account
    independent of GDAL."""
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
        out[-1] = struct.unpack("<Q", f.read(8))  # where the next IFD is
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


@pytest.mark.parametrize("cache", [False, True])
def test_points_are_the_codes_written(real_release, real_files, cache):
    f = real_files[0]
    source = real_release.open(cache=cache)
    got = source.sample(_points(f, PIXELS), 2024)
    expected = np.stack([_dequantize(f.codes[r, c]) for r, c in PIXELS])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-7)
    assert np.isnan(got[-1]).all()  # the sea corner is nodata, not data


@pytest.mark.parametrize("cache", [False, True])
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


def test_the_default_index_is_the_stac_one(real_release, real_files):
    source = real_release.open()
    paths = real_release.log.paths()
    assert any(p.endswith("aef_index_stac_geoparquet.parquet") for p in paths)
    assert not any(p.endswith("/aef_index.parquet") for p in paths)  # the 70-78 MB one is not fetched
    got = source.sample(_points(real_files[0], PIXELS[:2]), 2024)
    np.testing.assert_allclose(got, np.stack([_dequantize(real_files[0].codes[r, c]) for r, c in PIXELS[:2]]))


@pytest.mark.parametrize("index", ["aef_index.parquet", "aef_index_binary_path.parquet"])
def test_every_index_form_finds_the_file(real_release, real_files, index):
    """gs:// (Google layout) and s3:// (Source Cooperative) paths, as strings and as Parquet binary."""
    f = real_files[0]
    source = real_release.open(index=f"{real_release.url}/v1/annual/{index}")
    (tile,) = source.index.lookup(source.index.coverage, 2024)
    assert tile.url == f"{real_release.url}/v1/annual/{f.relpath}"  # no quote at its end, no s3:// or gs://
    got = source.sample(_points(f, PIXELS[:3]), 2024)
    np.testing.assert_allclose(got, np.stack([_dequantize(f.codes[r, c]) for r, c in PIXELS[:3]]), rtol=0, atol=1e-7)


REOPEN = """
import pickle, sys, numpy as np
from aef_widgets.sources import open_source
source = open_source("release", url=sys.argv[1], cache_dir=sys.argv[2])
with open(sys.argv[3], "rb") as f:
    field = source.read(pickle.load(f), 2024)
np.save(sys.argv[4], field.values)
"""


def test_a_place_read_before_opens_with_no_request_also_after_a_restart(real_release, real_files, tmp_path):
    import os
    import pickle
    import subprocess
    import sys

    f = real_files[0]
    aoi = _aoi_in_pixels(f, slice(1001, 1100), slice(950, 1090))
    first = real_release.open().read(aoi, 2024)
    real_release.log.reset()
    again = real_release.open().read(aoi, 2024)  # the same process: no request
    assert real_release.log.requests == []
    np.testing.assert_array_equal(again.values, first.values)
    # a new process (a restarted kernel): GDAL's memory is gone, the bytes on disk are not
    out = tmp_path / "values.npy"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    (tmp_path / "aoi.pickle").write_bytes(pickle.dumps(aoi))
    args = [real_release.url, str(real_release.cache_dir), str(tmp_path / "aoi.pickle"), str(out)]
    subprocess.run([sys.executable, "-c", REOPEN, *args], check=True, env=env, timeout=300)
    assert real_release.log.requests == []
    np.testing.assert_array_equal(np.load(out), first.values)
    np.testing.assert_allclose(first.values, _dequantize(f.codes[1001:1100, 950:1090]), rtol=0, atol=1e-7)


@pytest.fixture(scope="module")
def late_headers(tmp_path_factory) -> tuple:
    """A file whose overview headers come after its image (not a COG): a reader fetches them when asked for them."""
    from tests.release_real import build_real_release, real_file, write_real_tiff

    f = real_file(size=1024, seed=3)
    written = tmp_path_factory.mktemp("late") / "late.tiff"
    write_real_tiff(written, f, headers_first=False)
    root = tmp_path_factory.mktemp("late-release")
    build_real_release(root, "gcs", [f], built={f.name: written})
    return f, root, written


def test_overview_headers_after_the_image_do_not_stall_a_read(late_headers, tmp_path):
    """rasterio's ``ds.overviews()`` holds the GIL while GDAL fetches these headers: a cache server needing a
    thread of this process stalled it for minutes. The cache is another process; the read takes seconds."""
    import os
    import time

    from aef_widgets.sources import open_source
    from tests.http_server import serve

    f, root, written = late_headers
    tags = _tags(written)
    assert struct.unpack("<Q", written.read_bytes()[8:16])[0] < min(tags[324])  # the image's header first...
    assert tags[-1][0] > max(tags[324])  # ...the overviews' headers after the image's tiles
    with rasterio.open(written) as ds:
        assert len(ds.overviews(1)) == 10
    with serve(root, process=True) as (url, log):
        base = f"{url}/satellite_embedding"
        start = time.perf_counter()
        source = open_source("release", url=base, cache_dir=tmp_path)
        assert source.cache._process.pid != os.getpid()
        got = source.sample(_points(f, [(3, 4), (1000, 900)]), 2024)
        assert time.perf_counter() - start < 60  # the bug waited out GDAL's 30 s stall limit, with retries
    np.testing.assert_allclose(got, np.stack([_dequantize(f.codes[3, 4]), _dequantize(f.codes[1000, 900])]))


def _overview_reference(codes: np.ndarray, factor: int) -> np.ndarray:
    """Renormalised means of ``factor`` px blocks, in float64 from the codes, re-quantised with the inverse of the
    published formula (q = sign(v) * sqrt|v| * 127.5, nearest) and dequantised: what an overview pixel holds."""
    values = _dequantize(codes)
    rows, cols = codes.shape[0] // factor, codes.shape[1] // factor
    blocks = values[: rows * factor, : cols * factor].reshape(rows, factor, cols, factor, 64)
    mean = np.nanmean(blocks, axis=(1, 3))  # nodata pixels (NaN in every band) left out
    unit = mean / np.linalg.norm(mean, axis=-1, keepdims=True)
    q = np.clip(np.round(np.sign(unit) * np.sqrt(np.abs(unit)) * 127.5), -127, 127)
    return _dequantize(np.where(np.isnan(q), -128, q).astype(np.int8))


@pytest.mark.filterwarnings("ignore:Mean of empty slice")
def test_a_zoomed_out_view_is_the_renormalised_mean_of_the_codes(real_release, real_files):
    f = real_files[0]
    rows, cols = slice(1000, 1400), slice(200, 600)  # whole 4 x 4 px blocks of the file's lattice
    field = real_release.open().read(_aoi_in_pixels(f, rows, cols), 2024, resolution=40)
    assert field.grid.shape == (100, 100) and field.grid.transform.a == 40
    expected = _overview_reference(f.codes[rows, cols], 4)
    # the file's overviews were summed in float32: a code may round the other way where the mean sits on a tie
    got_q = np.round(np.sign(field.values) * np.sqrt(np.abs(field.values)) * 127.5)
    want_q = np.round(np.sign(expected) * np.sqrt(np.abs(expected)) * 127.5)
    assert np.nanmax(np.abs(got_q - want_q)) <= 1 and np.mean(got_q == want_q) > 0.999


@pytest.mark.parametrize("cache", [False, True])
@pytest.mark.parametrize("fault", ["flaky", "short"])
def test_a_cdn_that_fails_once_is_retried_and_read_exactly(real_release, real_files, cache, fault):
    """Two 500s in a row, or a body cut short: retried (by GDAL, and by the cache process), never a wrong value."""
    f = real_files[0]
    source = real_release.open(cache=cache)
    source.sample(_points(f, [(0, 0)]), 2024)  # the header is read
    real_release.log.configure(**{fault: {f"{f.name}.tiff": 2 if fault == "flaky" else 1}})
    got = source.sample(_points(f, [(1500, 1500)]), 2024)
    np.testing.assert_allclose(got[0], _dequantize(f.codes[1500, 1500]), rtol=0, atol=1e-7)
    statuses = [r for p, r, _ in real_release.log.requests if p.endswith(".tiff")]
    assert len(statuses) >= 2  # the failed request and its retry both reached the server
