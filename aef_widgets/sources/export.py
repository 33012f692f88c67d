"""Writing results as GeoTIFFs that GIS software opens with the right grid and colours."""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from pathlib import Path

import numpy as np
import rasterio

from ..core.grid import Grid

LABEL_NODATA = 255


def write_labels(
    path: str | PathLike,
    labels: np.ndarray,
    grid: Grid,
    colormap: Mapping[int, tuple[int, int, int, int]] | None = None,
    tags: dict | None = None,
) -> Path:
    """A uint8 GeoTIFF of class labels (negative = no class, written as 255 nodata) on ``grid``.

    ``colormap`` (class -> RGBA) becomes the file's colour table, so QGIS and ArcGIS show the app's colours.
    """
    if labels.shape != grid.shape:
        raise ValueError(f"labels {labels.shape} do not match the grid {grid.shape}")
    if labels.max(initial=-1) >= LABEL_NODATA:
        raise ValueError("a uint8 label file holds at most 255 classes")
    data = labels.astype(np.uint8)  # one byte per pixel, no wider temporary: AOIs can be large
    data[labels < 0] = LABEL_NODATA
    path = Path(path)
    profile = {
        "driver": "GTiff", "dtype": "uint8", "count": 1, "width": grid.width, "height": grid.height,
        "crs": grid.crs, "transform": grid.transform, "nodata": LABEL_NODATA, "compress": "deflate",
        "tiled": True, "blockxsize": 256, "blockysize": 256,
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        if colormap:
            dst.write_colormap(1, dict(colormap))
        dst.update_tags(**(tags or {}))
    return path
