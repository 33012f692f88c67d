"""Earth Engine's pixel grids and requests: UTM grids on the 10 m lattice, ``computePixels`` and its answers.

A read asks for pixels on an explicit grid in the UTM zone of the AOI's centre (``pixel_grid``), in pieces no
larger than one request may return (``request_side``); the structured NumPy answer becomes float32 values and a
mask (``decode_pixels``), a ``reduceRegions`` answer becomes one vector per point (``vectors_from_features``).
"""

from __future__ import annotations

import math
from typing import Any

import ee
import numpy as np
from rasterio.crs import CRS

from ..core.aoi import AOI
from ..core.bands import BAND_NAMES, N_BANDS
from ..core.errors import EarthEngineError, SourceError
from ..core.grid import Grid
from .earthengine_errors import ee_errors

#: Earth Engine refuses pixel requests above 48 MiB or 32768 px per side; stay well below.
MAX_REQUEST_BYTES = 32 * 2**20
MAX_REQUEST_SIDE = 32768
VALID_BAND = "valid"
#: The feature property that puts a sampled point's row back in place.
INDEX_PROPERTY = "aef_index"


def utm_crs(lon: float, lat: float) -> CRS:
    """The WGS84 UTM zone containing a lon/lat point (standard 6° zones, north or south)."""
    zone = min(60, max(1, math.floor(((lon + 180) % 360) / 6) + 1))  # lon may be past 180 (Leaflet, wide AOIs)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def crs_code(crs: CRS) -> str:
    """``EPSG:nnnn`` for Earth Engine requests."""
    epsg = crs.to_epsg()
    if epsg is None:
        raise SourceError(f"Earth Engine needs an EPSG code, and {crs.to_string()} has none")
    return f"EPSG:{epsg}"


def aoi_geometry(aoi: AOI) -> ee.Geometry:
    """The AOI as a planar lon/lat geometry: straight edges in degrees, as it was drawn and as it masks locally."""
    return ee.Geometry(aoi.geometry, None, False)


def pixel_grid(grid: Grid) -> dict:
    """A ``computePixels`` grid (PixelGrid) for a north-up Grid."""
    t = grid.transform
    return {
        "dimensions": {"width": int(grid.width), "height": int(grid.height)},
        "affineTransform": {
            "scaleX": t.a, "shearX": t.b, "translateX": t.c, "shearY": t.d, "scaleY": t.e, "translateY": t.f,
        },
        "crsCode": crs_code(grid.crs),
    }  # fmt: skip


def request_side(bytes_per_pixel: int, max_bytes: int | None = None) -> int:
    """Side of the largest square piece one pixel request (of at most ``max_bytes``) may return."""
    limit = MAX_REQUEST_BYTES if max_bytes is None else max_bytes
    return max(1, min(MAX_REQUEST_SIDE, math.isqrt(limit // bytes_per_pixel)))


def compute_pixels(expression: ee.Image, grid: Grid, action: str) -> np.ndarray:
    """One ``computePixels`` request for ``expression`` on ``grid``: a structured array shaped (rows, cols)."""
    request = {"expression": expression, "fileFormat": "NUMPY_NDARRAY", "grid": pixel_grid(grid)}
    with ee_errors(action):
        array = ee.data.computePixels(request)
    array = np.asarray(array)
    if array.shape[:2] != grid.shape:
        raise EarthEngineError(f"Earth Engine returned pixels shaped {array.shape[:2]} for a {grid.shape} request")
    return array


def decode_pixels(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A structured (rows, cols) array with fields A00..A63 and ``valid`` to float32 values and a mask.

    Earth Engine fills masked pixels with zeros in NumPy responses, so validity comes from the explicit band,
    and an all-zero vector is treated as a gap too.
    """
    names = array.dtype.names or ()
    missing = [b for b in (*BAND_NAMES, VALID_BAND) if b not in names]
    if missing:
        raise EarthEngineError(f"Earth Engine returned no band {missing[0]}; is this the AEF collection?")
    values = np.stack([array[b] for b in BAND_NAMES], axis=-1).astype(np.float32)
    mask = (array[VALID_BAND] > 0) & np.isfinite(values).all(axis=-1) & (values != 0).any(axis=-1)
    values[~mask] = np.nan
    return values, mask


def vectors_from_features(info: Any, n: int) -> np.ndarray:
    """(n, 64) float32 from a FeatureCollection's JSON, rows placed by ``aef_index`` (NaN where null or absent)."""
    out = np.full((n, N_BANDS), np.nan, dtype=np.float32)
    features = (info or {}).get("features", [])
    for position, feature in enumerate(features):
        props = feature.get("properties") or {}
        row = int(props.get(INDEX_PROPERTY, position))
        values = [props.get(b) for b in BAND_NAMES]
        if 0 <= row < n and all(isinstance(v, (int, float)) for v in values):
            out[row] = values
    return out


def validity(image: ee.Image) -> ee.Image:
    """1 where all 64 bands are unmasked, else 0 (never masked itself, so it always comes back)."""
    return image.select(list(BAND_NAMES)).mask().reduce(ee.Reducer.min()).unmask(0).toFloat().rename(VALID_BAND)
