"""Exports that cannot be written say why in words and leave nothing behind; downloads need no folder at all."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.io import MemoryFile

from aef_widgets.core.errors import ExportError
from aef_widgets.core.grid import Grid
from aef_widgets.sources.export import labels_geotiff_bytes, write_labels

GRID = Grid(Affine(10, 0, 358_000, 0, -10, 4_906_000), 64, 48, CRS.from_epsg(32616))
LABELS = np.random.default_rng(0).integers(-1, 5, GRID.shape).astype(np.int16)
COLORS = {i: (i * 40, 255 - i * 40, 0, 255) for i in range(5)}


@pytest.mark.parametrize(
    "where, message",
    [
        ("missing/clusters.tif", "the folder .*missing does not exist"),
        (".", "it is a folder"),
    ],
)
def test_unwritable_destinations_are_explained(tmp_path, where, message):
    with pytest.raises(ExportError, match=message) as err:
        write_labels(tmp_path / where, LABELS, GRID)
    assert "Rasterio" not in str(err.value) and "CPLE" not in str(err.value)
    assert sorted(os.listdir(tmp_path)) == []


def test_a_fifo_or_device_is_never_replaced(tmp_path):
    fifo = tmp_path / "clusters.tif"
    os.mkfifo(fifo)
    with pytest.raises(ExportError, match="not a regular file"):
        write_labels(fifo, LABELS, GRID)
    assert fifo.exists() and not fifo.is_file() and os.listdir(tmp_path) == ["clusters.tif"]


def test_a_folder_gdal_cannot_create_files_in_is_explained():
    with pytest.raises(ExportError, match=r"cannot write /proc/clusters.tif: files cannot be created in /proc") as err:
        write_labels("/proc/clusters.tif", LABELS, GRID)
    assert "partial" not in str(err.value)


def test_a_write_failing_halfway_leaves_no_partial_file(tmp_path):
    # a file size limit makes the write fail part way, as a full disk would
    script = textwrap.dedent(f"""
        import resource, signal, numpy as np
        from tests.sources.test_export_safety import GRID, write_labels
        from aef_widgets.core.errors import ExportError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))
        labels = np.random.default_rng(1).integers(0, 200, GRID.shape).astype(np.int16)
        try:
            write_labels({str(tmp_path / "clusters.tif")!r}, labels, GRID)
        except ExportError as e:
            print("refused:", e)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert "refused: cannot write" in done.stdout and "is the disk full?" in done.stdout
    assert os.listdir(tmp_path) == []


def test_an_export_overwrites_atomically_and_keeps_the_colours(tmp_path):
    path = tmp_path / "clusters.tif"
    path.write_bytes(b"old")
    assert write_labels(path, LABELS, GRID, COLORS, {"YEAR": "2024"}) == path
    assert os.listdir(tmp_path) == ["clusters.tif"]
    with rasterio.open(path) as ds:
        data = ds.read(1)
        assert ds.colormap(1)[3] == COLORS[3] and ds.tags()["YEAR"] == "2024" and ds.nodata == 255
    np.testing.assert_array_equal(data, np.where(LABELS < 0, 255, LABELS))


def test_download_bytes_are_the_same_geotiff_with_no_file(tmp_path):
    write_labels(tmp_path / "a.tif", LABELS, GRID, COLORS)
    data = labels_geotiff_bytes(LABELS, GRID, COLORS)
    with MemoryFile(data) as mem, mem.open() as ds, rasterio.open(tmp_path / "a.tif") as ref:
        np.testing.assert_array_equal(ds.read(), ref.read())
        assert ds.transform == ref.transform and ds.crs == ref.crs and ds.colormap(1) == ref.colormap(1)
