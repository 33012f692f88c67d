"""Exports of products, on the grid they were computed on: COGs of values, classes, colours and years, and
GeoJSON polygons of classes and thresholded values.

Conventions: float products keep NaN as nodata; class maps are uint8 with 255 for no class and the app's colours
as the colour table; the when-did-it-change map is int16 years, 0 where the change is below the threshold and
-1 (nodata) where a pixel has fewer than two years with data.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import numpy as np

from ..analysis.temporal import NO_YEAR, ChangeYears
from ..analysis.vectors import VectorLayer, class_polygons
from ..core.grid import Grid
from ..rendering.colors import hex_to_rgba
from ..sources.cog_export import write_cog
from .temporal_workflows import AnomalyMap

CLASS_NODATA = 255
YEAR_NODATA = -1


def export_values(path: str | PathLike, values: np.ndarray, grid: Grid, description: str, **tags: str) -> Path:
    """A float32 COG of one value per pixel (similarity, change, anomaly...), NaN where there is no data."""
    return write_cog(path, np.asarray(values, np.float32), grid, [description], tags=tags)


def export_classes(
    path: str | PathLike, labels: np.ndarray, grid: Grid, colors: Sequence[str] | None = None, **tags: str
) -> Path:
    """A uint8 COG of class labels (negative = no class, written as 255), with the colours as its table."""
    labels = np.asarray(labels)
    if labels.max(initial=-1) >= CLASS_NODATA:
        raise ValueError("a uint8 class map holds at most 255 classes")
    data = np.where(labels < 0, CLASS_NODATA, labels).astype(np.uint8)
    colormap = {i: hex_to_rgba(c) for i, c in enumerate(colors)} if colors else None
    return write_cog(path, data, grid, ["class"], nodata=CLASS_NODATA, categorical=True, colormap=colormap, tags=tags)


def export_rgb(path: str | PathLike, rgb: np.ndarray, grid: Grid, **tags: str) -> Path:
    """A uint8 RGB COG from (rows, cols, 3) floats in 0..1 (NaN = no data, written as 0 in every band)."""
    rgb = np.asarray(rgb, np.float64)
    valid = np.isfinite(rgb).all(axis=-1)
    data = np.where(valid[..., None], np.clip(np.rint(np.nan_to_num(rgb) * 254) + 1, 1, 255), 0).astype(np.uint8)
    return write_cog(path, np.moveaxis(data, -1, 0), grid, ["red", "green", "blue"], nodata=0, tags=tags)


def change_year_map(product: ChangeYears, threshold: float = 0.0) -> np.ndarray:
    """int16 years of the largest change at or above ``threshold``; 0 below it; -1 without two years of data."""
    years = product.above(threshold)
    years[product.year == NO_YEAR] = YEAR_NODATA
    return years


def export_change_years(path: str | PathLike, product: ChangeYears, threshold: float = 0.0) -> Path:
    """Two COGs: ``path`` the int16 year map of ``change_year_map`` and ``<stem>_size.tif`` the change's size."""
    path = Path(path)
    tags = {"YEARS": ",".join(map(str, product.years)), "THRESHOLD": str(threshold)}
    desc = f"year of the largest year-to-year change >= {threshold:g} (0 below, -1 no data)"
    write_cog(path, change_year_map(product, threshold), product.grid, [desc], nodata=YEAR_NODATA,
              categorical=True, tags=tags)  # fmt: skip
    export_values(path.with_name(f"{path.stem}_size.tif"), product.size, product.grid,
                  "largest year-to-year change (1 - cosine)", **tags)  # fmt: skip
    return path


def export_anomaly(path: str | PathLike, product: AnomalyMap) -> Path:
    """A two-band float32 COG: the raw anomaly (1 - cosine) and its robust score, with the median and scale."""
    tags = {
        "YEAR": str(product.year), "YEARS": ",".join(map(str, product.years)),
        "MEDIAN": repr(product.scale.median), "SCALE": repr(product.scale.scale),
    }  # fmt: skip
    bands = np.stack([product.raw, product.score]).astype(np.float32)
    descriptions = [f"anomaly of {product.year} (1 - cosine to the other years)", "robust score (raw - median) / scale"]
    return write_cog(path, bands, product.grid, descriptions, tags=tags)


def change_year_polygons(
    product: ChangeYears, threshold: float, *, simplify: float = 0.0, min_area_m2: float = 0.0
) -> VectorLayer:
    """Polygons of the pixels that changed by at least ``threshold``, with the year they changed (``year``)."""
    years = product.above(threshold).astype(np.int32)
    years[years == NO_YEAR] = -1
    return class_polygons(years, product.grid, simplify=simplify, min_area_m2=min_area_m2, property_name="year")
