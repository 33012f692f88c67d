"""Writing results as GeoTIFFs that GIS software opens with the right grid and colours.

A file is written next to its destination under a temporary name and renamed into place when complete, so a
failed export (no permission, a full disk) leaves neither a partial file nor anything else behind. A download
needs no file at all: ``labels_geotiff_bytes`` writes the same GeoTIFF in memory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from os import PathLike
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioIOError
from rasterio.io import MemoryFile

from ..core.errors import ExportError
from ..core.grid import Grid
from .gdal_env import gdal_reason

LABEL_NODATA = 255
Colormap = Mapping[int, tuple[int, int, int, int]]


def write_labels(
    path: str | PathLike,
    labels: np.ndarray,
    grid: Grid,
    colormap: Colormap | None = None,
    tags: dict | None = None,
) -> Path:
    """A uint8 GeoTIFF of class labels (negative = no class, written as 255 nodata) on ``grid``.

    ``colormap`` (class -> RGBA) becomes the file's colour table, so QGIS and ArcGIS show the app's colours.
    Raises ``ExportError`` in words when the file cannot be written.
    """
    data = _label_bytes(labels, grid)
    path = Path(path)
    _check_writable(path)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with rasterio.open(partial, "w", driver="GTiff", **_profile(grid)) as dst:
            _write(dst, data, colormap, tags)
        _check_reads_back(partial, data, path)
        os.replace(partial, path)
    except ExportError:
        raise
    except (RasterioIOError, OSError) as e:
        raise ExportError(f"cannot write {path}: {_reason(e, path.parent)}") from None
    finally:
        partial.unlink(missing_ok=True)
    return path


def labels_geotiff_bytes(
    labels: np.ndarray, grid: Grid, colormap: Colormap | None = None, tags: dict | None = None
) -> bytes:
    """The GeoTIFF ``write_labels`` writes, as bytes made in memory: for a download, with no folder to clean up."""
    data = _label_bytes(labels, grid)
    with MemoryFile() as mem:
        with mem.open(driver="GTiff", **_profile(grid)) as dst:
            _write(dst, data, colormap, tags)
        return mem.read()


def _label_bytes(labels: np.ndarray, grid: Grid) -> np.ndarray:
    if labels.shape != grid.shape:
        raise ValueError(f"labels {labels.shape} do not match the grid {grid.shape}")
    if labels.max(initial=-1) >= LABEL_NODATA:
        raise ValueError("a uint8 label file holds at most 255 classes")
    data = labels.astype(np.uint8)  # one byte per pixel, no wider temporary: AOIs can be large
    data[labels < 0] = LABEL_NODATA
    return data


def _profile(grid: Grid) -> dict:
    return {
        "dtype": "uint8", "count": 1, "width": grid.width, "height": grid.height, "crs": grid.crs,
        "transform": grid.transform, "nodata": LABEL_NODATA, "compress": "deflate", "tiled": True,
        "blockxsize": 256, "blockysize": 256,
    }  # fmt: skip


def _write(dst, data: np.ndarray, colormap: Colormap | None, tags: dict | None) -> None:
    dst.write(data, 1)
    if colormap:
        dst.write_colormap(1, dict(colormap))
    dst.update_tags(**(tags or {}))


def _check_reads_back(written: Path, data: np.ndarray, path: Path) -> None:
    """libtiff only logs some write failures (a full disk, a file size limit): the file must read back whole."""
    try:
        with rasterio.open(written) as ds:
            whole = np.array_equal(ds.read(1), data)
    except RasterioIOError:
        whole = False
    if not whole:
        raise ExportError(f"cannot write {path}: the file was cut short while writing (is the disk full?)")


def _check_writable(path: Path) -> None:
    """The usual reasons a file cannot be written, in words, before GDAL is asked."""
    folder = path.parent
    if path.is_dir():
        raise ExportError(f"cannot write {path}: it is a folder; give a file name ending in .tif")
    if not folder.is_dir():
        raise ExportError(f"cannot write {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write {path}: there is no permission to write in {folder}; choose another folder")
    if path.exists() and not path.is_file():  # a device or a FIFO: renaming over it would replace it
        raise ExportError(f"cannot write {path}: it exists and is not a regular file")
    if path.exists() and not os.access(path, os.W_OK):
        raise ExportError(f"cannot write {path}: the file exists and may not be overwritten")


def _reason(error: BaseException, folder: Path) -> str:
    """Why writing failed, without the temporary name or exception classes."""
    reason = error.strerror if isinstance(error, OSError) and error.strerror else gdal_reason(error)
    for words, meaning in _REASONS.items():
        if words in reason.lower():
            return meaning.format(folder=folder)
    return reason


_REASONS = {
    "permission denied": "there is no permission to write in {folder}; choose another folder",
    "read-only file system": "{folder} is on a read-only disk; choose another folder",
    "no such file or directory": "files cannot be created in {folder}; choose another folder",
    "no space left": "the disk is full",
    "disk quota": "the disk quota is used up",
}
