"""Products as Cloud-Optimized GeoTIFFs: on the source's CRS and grid, with nodata and band descriptions.

GDAL's COG driver writes the layout (IFDs first, tiles in order, internal overviews, a ghost header declaring
``LAYOUT=COG``); the bands are written to a temporary GeoTIFF first, because the COG driver only copies. Overviews
use nearest neighbour for categorical data (classes, years: never a class between two) and the mean for values.
NaN is the nodata of float bands, so a float pixel without data stays NaN when read back.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil

from ..core.grid import Grid

_COG_OPTIONS = {"compress": "DEFLATE", "blocksize": 256, "bigtiff": "IF_SAFER", "num_threads": "ALL_CPUS"}


def write_cog(
    path: str | PathLike,
    data: np.ndarray,
    grid: Grid,
    descriptions: Sequence[str],
    *,
    nodata: float | None = None,
    categorical: bool = False,
    colormap: Mapping[int, tuple[int, int, int, int]] | None = None,
    tags: Mapping[str, str] | None = None,
) -> Path:
    """Write ``data`` ((rows, cols) or (bands, rows, cols)) on ``grid`` as a COG; return the path.

    ``nodata`` defaults to NaN for float data (required for other types when some pixels have none);
    ``categorical`` picks nearest-neighbour overviews; ``colormap`` (value -> RGBA, single-band uint8 only)
    becomes the file's colour table.
    """
    bands = np.asarray(data)
    if bands.ndim == 2:
        bands = bands[None]
    if bands.ndim != 3 or bands.shape[1:] != grid.shape:
        raise ValueError(f"data {np.shape(data)} do not match the grid {grid.shape}")
    if len(descriptions) != bands.shape[0]:
        raise ValueError(f"{bands.shape[0]} bands need as many descriptions, got {len(descriptions)}")
    floating = np.issubdtype(bands.dtype, np.floating)
    if nodata is None and floating:
        nodata = float("nan")
    if colormap and (bands.dtype != np.uint8 or bands.shape[0] != 1):
        raise ValueError("a colour table needs a single uint8 band")
    path = Path(path)
    profile = {
        "driver": "GTiff", "dtype": bands.dtype.name, "count": bands.shape[0], "width": grid.width,
        "height": grid.height, "crs": grid.crs, "transform": grid.transform, "nodata": nodata, "tiled": True,
        "blockxsize": 256, "blockysize": 256, "compress": "deflate", "bigtiff": "IF_SAFER",
    }  # fmt: skip
    fd, staging = tempfile.mkstemp(suffix=".tif", prefix=".aef-cog-", dir=path.parent if path.parent.exists() else None)
    os.close(fd)
    try:
        with rasterio.open(staging, "w", **profile) as dst:
            dst.write(bands)
            for i, text in enumerate(descriptions, start=1):
                dst.set_band_description(i, text)
            if colormap:
                dst.write_colormap(1, dict(colormap))
            dst.update_tags(**dict(tags or {}))
        resampling = "NEAREST" if categorical or colormap else "AVERAGE"
        rasterio.shutil.copy(staging, path, driver="COG", resampling=resampling, **_COG_OPTIONS)
    finally:
        Path(staging).unlink(missing_ok=True)
    return path
