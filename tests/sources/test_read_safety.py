"""Reads say what is wrong in words: too large for memory, a truncated file, band names that do not match."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import rasterio
import rasterio.shutil
from affine import Affine

from aef_widgets import AOI, open_source
from aef_widgets.core.errors import SourceError, TooLargeError
from aef_widgets.core.grid import Grid
from aef_widgets.sources.base import MAX_READ_BYTES


@pytest.fixture
def two_years(tmp_path, real_int8):
    for year in (2023, 2024):
        shutil.copy(real_int8, tmp_path / f"aef_{year}.tif")
    return tmp_path


@pytest.fixture
def two_cogs(tmp_path, real_int8):
    """COG copies of the real raster (headers first, as the public release is laid out) for 2023 and 2024."""
    for year in (2023, 2024):
        rasterio.shutil.copy(real_int8, tmp_path / f"aef_{year}.tif", driver="COG", blocksize=32)
    return {year: tmp_path / f"aef_{year}.tif" for year in (2023, 2024)}


def test_a_huge_read_is_refused_with_the_numbers_before_allocating(real_int8):
    source = open_source(real_int8)
    left, _, _, top = source.footprint.bounds
    huge = Grid(Affine(10, 0, left, 0, -10, top), 300_000, 300_000, source.footprint.crs)  # 22.5 TiB of float32
    with pytest.raises(TooLargeError) as err:
        source.read_window(huge, 2024)
    message = str(err.value)
    assert "300,000 x 300,000 pixels" in message and "90,000.0 Mpx at 10 m" in message
    assert "21.0 TB" in message and "limit is 4.0 GB" in message
    assert "smaller AOI" in message and "coarser resolution" in message and "Earth Engine" in message
    assert "MemoryError" not in message


def test_read_checks_the_aoi_grid_against_the_sources_limit(real_int8):
    source = open_source(real_int8)
    assert source.max_read_bytes == MAX_READ_BYTES
    source.max_read_bytes = 2_000_000
    aoi = AOI.from_bounds(*source.footprint.lonlat_bounds())
    with pytest.raises(TooLargeError, match=r"96 x 96 pixels \(9,216 px at 10 m\).*at least 2x coarser, resolution=20"):
        source.read(aoi, 2024)
    field = source.read(aoi, 2024, resolution=20)  # the advice works
    assert field.grid.shape == (48, 48)
    chunks = list(source.stream(aoi, 2024, max_chunk_bytes=64 * 64 * 256))  # streaming stays under the limit
    assert sum(f.mask.size for _, f in chunks) == 96 * 96


def test_a_truncated_file_is_named_and_other_years_keep_working(two_cogs):
    os.truncate(two_cogs[2024], os.path.getsize(two_cogs[2024]) // 2)
    source = open_source(two_cogs)
    for read in (lambda: source.read(None, 2024), lambda: source.sample([source.footprint.center_lonlat], 2024)):
        with pytest.raises(SourceError) as err:
            read()
        message = str(err.value)
        assert "aef_2024.tif (the 2024 data)" in message and "looks truncated or damaged" in message
        assert "RasterioIOError" not in message and "CPLE" not in message
    assert source.read(None, 2023).mask.all()


def test_a_file_truncated_before_its_header_ends_says_so_when_opened(two_years):
    path = two_years / "aef_2024.tif"
    os.truncate(path, os.path.getsize(path) // 2)  # a plain GeoTIFF keeps its directory at the end
    with pytest.raises(SourceError, match=r"cannot open .*aef_2024.tif: the file looks truncated or damaged"):
        open_source(path)


def rename_bands(path, names):
    with rasterio.open(path, "r+") as ds:
        for i, name in enumerate(names, start=1):
            ds.set_band_description(i, name)


@pytest.mark.parametrize(
    "names, expected",
    [
        ([f"A{i:02d}" for i in range(32)] + [""] * 32, r"32 bands have no name; no band named A32, A33, A34, A35 and"),
        (["A00", *(f"A{i:02d}" for i in range(2, 64)), "A05"], r"A05 named more than once; no band named A01\)"),
        ([f"B{i}" for i in range(64)], r"names not in A00..A63: B0, B1, B10, B11 and 60 more"),
    ],
)
def test_band_names_that_do_not_match_say_how(two_years, names, expected):
    path = two_years / "aef_2024.tif"
    rename_bands(path, names)
    with pytest.raises(SourceError, match=expected) as err:
        open_source(path)
    assert "['']" not in str(err.value)


def test_bands_named_in_another_order_are_matched(two_years, real_values):
    path = two_years / "aef_2024.tif"
    order = np.random.default_rng(0).permutation(64)
    with rasterio.open(path) as ds:
        data = ds.read()
    with rasterio.open(path, "r+") as ds:
        ds.write(data[order])
        for band, i in enumerate(order, start=1):
            ds.set_band_description(band, f"A{i:02d}")
    source = open_source(path)
    reference = open_source(two_years / "aef_2023.tif").read(None, 2024)  # the same pixels, in order
    assert np.array_equal(source.read(None, 2024).values, reference.values, equal_nan=True)
