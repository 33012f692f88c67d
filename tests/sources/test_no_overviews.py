"""Zoomed-out views of files without overviews read in bounded memory, bottom-up files included."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import rasterio
from affine import Affine

from aef_widgets import open_source
from aef_widgets.sources import file_window
from tests.conftest import REAL_INT8, bottom_up_copy, write_like


@pytest.mark.parametrize("strip_bytes", [1, 64 * 2**20])
def test_bottom_up_decimation_in_strips_reads_like_the_top_down_file(tmp_path, monkeypatch, strip_bytes):
    monkeypatch.setattr(file_window, "_STRIP_BYTES", strip_bytes)  # 1: one output row per strip
    top_down = write_like(tmp_path / "td_2024.tif", REAL_INT8, rasterio.open(REAL_INT8).read())
    bottom_up = bottom_up_copy(top_down, tmp_path / "bu_2024.tif")
    up, down = open_source(top_down), open_source(bottom_up)
    for resolution in (20, 30, 40, 80):
        a, b = up.read(None, 2024, resolution), down.read(None, 2024, resolution)
        assert a.grid == b.grid
        np.testing.assert_array_equal(a.values, b.values)
        np.testing.assert_array_equal(a.mask, b.mask)


def test_a_view_of_a_large_bottom_up_file_without_overviews_fits_in_memory(tmp_path):
    # 8192 x 8192 px x 64 bands is 4 GiB of int8 (a sparse file here); the process may use at most 2.5 GiB
    path = tmp_path / "big_2024.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=8192, height=8192, count=64, dtype="int8", nodata=-128, crs="EPSG:32616",
        transform=Affine(10, 0, 300_000, 0, 10, 4_900_000), tiled=True, blockxsize=256, blockysize=256,
        SPARSE_OK=True, interleave="pixel",
    ) as ds:  # fmt: skip
        ds.write(np.full((64, 256, 256), 50, dtype=np.int8), window=rasterio.windows.Window(0, 0, 256, 256))
    script = textwrap.dedent(f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (int(2.5 * 2**30), int(2.5 * 2**30)))
        from aef_widgets import open_source
        field = open_source({str(path)!r}).read(None, 2024, resolution=160)
        print(field.grid.shape, int(field.mask.sum()))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    # the written 256 px block is the bottom-left corner of the north-up grid: 16 x 16 view pixels
    assert done.stdout.split() == ["(512,", "512)", "256"]
