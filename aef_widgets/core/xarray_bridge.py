"""Fields as xarray DataArrays, the way the rest of the Python raster world (rioxarray, Dask, Zarr) holds rasters.

A field becomes a DataArray ``(y, x, band)`` with band labels ``A00``..``A63``, ``x`` and ``y`` the CRS coordinates
of pixel centres, NaN where there is no data, and georeferencing as rioxarray writes it (its ``write_crs`` and
``write_transform``): a scalar ``spatial_ref`` coordinate holding the CF grid mapping, ``crs_wkt`` and
``spatial_ref`` (the WKT, for GDAL) and ``GeoTransform`` (GDAL's six numbers, space separated), named by the
array's ``grid_mapping`` attribute. ``da.rio.crs`` and ``da.rio.transform()`` then read them, without this package
needing rioxarray. Product arrays (classes, similarity, change) become ``(y, x)`` DataArrays on the same grid.

xarray is imported only when a bridge function is called, so the core layer stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from affine import Affine
from pyproj import CRS as ProjCRS
from rasterio.crs import CRS

from .bands import BAND_NAMES, N_BANDS
from .grid import Grid

if TYPE_CHECKING:
    import xarray as xr

GRID_MAPPING = "spatial_ref"


def grid_coords(grid: Grid) -> dict:
    """``x``, ``y`` (pixel centres) and the ``spatial_ref`` coordinate of a grid, for a DataArray on it."""
    import xarray as xr

    t = grid.transform
    xs = t.c + t.a * (np.arange(grid.width) + 0.5)
    ys = t.f + t.e * (np.arange(grid.height) + 0.5)
    wkt = grid.crs.to_wkt()
    try:
        attrs = ProjCRS.from_wkt(wkt).to_cf()
    except KeyError:  # a CRS without a CF name: the WKT alone, as rioxarray does
        attrs = {}
    attrs.update(spatial_ref=wkt, crs_wkt=wkt, GeoTransform=" ".join(str(v) for v in t.to_gdal()))
    return {"x": xs, "y": ys, GRID_MAPPING: xr.Variable((), 0, attrs)}


def product_array(values: np.ndarray, grid: Grid, name: str, nodata: float | None = None) -> xr.DataArray:
    """A (rows, cols) product on ``grid`` (classes, similarity, change) as a ``(y, x)`` DataArray."""
    import xarray as xr

    if values.shape != grid.shape:
        raise ValueError(f"values shaped {values.shape} are not on the grid {grid.shape}")
    attrs = {"grid_mapping": GRID_MAPPING}
    if nodata is not None:
        attrs["_FillValue"] = nodata
    return xr.DataArray(values, dims=("y", "x"), coords=grid_coords(grid), name=name, attrs=attrs)


def field_to_xarray(values: np.ndarray, grid: Grid, year: int | None) -> xr.DataArray:
    """Field values (rows, cols, 64), NaN without data, as a ``(y, x, band)`` DataArray (shares the memory)."""
    import xarray as xr

    coords = {**grid_coords(grid), "band": list(BAND_NAMES)}
    attrs = {"grid_mapping": GRID_MAPPING}
    if year is not None:
        attrs["year"] = int(year)
    return xr.DataArray(values, dims=("y", "x", "band"), coords=coords, name="embeddings", attrs=attrs)


def grid_of(da: xr.DataArray) -> Grid:
    """The grid of a DataArray georeferenced as rioxarray writes it: pixel centres from the x/y coordinates (or the
    ``GeoTransform`` when there are too few to give a pixel size), the CRS from the grid mapping."""
    mapping = da.coords.get(da.attrs.get("grid_mapping", GRID_MAPPING))
    if mapping is None:
        mapping = da.coords.get(GRID_MAPPING)
    wkt = (mapping.attrs.get("crs_wkt") or mapping.attrs.get("spatial_ref")) if mapping is not None else None
    if not wkt:
        raise ValueError("the DataArray has no CRS: write one first, e.g. da.rio.write_crs('EPSG:32616')")
    height, width = da.sizes["y"], da.sizes["x"]
    gdal = mapping.attrs.get("GeoTransform")
    has_coords = "x" in da.coords and "y" in da.coords and width >= 2 and height >= 2
    if has_coords:  # the coordinates, which follow slicing and flipping; the attribute may be stale after them
        xs, ys = da["x"].to_numpy(), da["y"].to_numpy()
        dx, dy = float(xs[1] - xs[0]), float(ys[1] - ys[0])
        transform = Affine(dx, 0, float(xs[0]) - dx / 2, 0, dy, float(ys[0]) - dy / 2)
    elif gdal:
        transform = Affine.from_gdal(*map(float, str(gdal).split()))
    else:
        raise ValueError("a DataArray of one row or column needs a GeoTransform to give its pixel size")
    if transform.b or transform.d:
        raise ValueError("rotated grids are not supported")
    return Grid(transform, int(width), int(height), CRS.from_wkt(wkt))


def field_values(da: xr.DataArray) -> np.ndarray:
    """(rows, cols, 64) float32 of a DataArray with dims y, x, band (any order) and bands A00..A63 (any order)."""
    missing = {"y", "x", "band"} - set(da.dims)
    if missing:
        raise ValueError(f"the DataArray needs dims y, x and band; it has {', '.join(map(str, da.dims))}")
    if da.sizes["band"] != N_BANDS:
        raise ValueError(f"an embedding field has {N_BANDS} bands, this DataArray has {da.sizes['band']}")
    if "band" in da.coords and all(isinstance(b, str) for b in da["band"].to_numpy()):
        da = da.sel(band=list(BAND_NAMES))  # by label: a reordered array still maps A00 to A00
    return np.asarray(da.transpose("y", "x", "band").to_numpy(), dtype=np.float32)
