"""The tables of ``tables`` computed on Earth Engine: ``reduceRegions`` in batches, the same columns.

Zonal means: each pixel's vector is made unit length on the server, a band of ones masked like the vectors is
added, and ``reduceRegions`` sums all 65 bands with ``ee.Reducer.sum()``, which weighs each pixel by the fraction
of it the polygon covers (Earth Engine's weighted reductions). The sum of the ones is ``pixels``; the vector sums
are divided and renormalised here, by the same code as the local tables, so both engines give ``spread`` alike.
Polygons are sent in the UTM zone their representative point lies in (``table_grids``), at 10 m in that zone, as
the local tables measure them, in batches of ``BATCH`` features per request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ee
import numpy as np
import shapely

from ..analysis.geotable import assemble_rows, lonlat_bounds, lonlat_of
from ..analysis.zonal import ZonalSums
from ..core.bands import BAND_NAMES, N_BANDS
from ..sources.earthengine import NATIVE_RESOLUTION, EarthEngineSource, crs_code, ee_errors, vectors_from_features
from .base import Progress
from .table_grids import lattice_groups

if TYPE_CHECKING:
    import geopandas as gpd

#: Features per ``reduceRegions`` request: a few thousand polygons stay well inside a request's memory and time.
BATCH = 2000
_INDEX = "aef_index"
_PIXELS = "pixels"


def unit_image(image: ee.Image) -> ee.Image:
    """The 64 bands divided by their length, plus ``pixels``: 1 where all 64 are unmasked (masked elsewhere)."""
    bands = image.select(list(BAND_NAMES))
    unit = bands.divide(bands.pow(2).reduce(ee.Reducer.sum()).sqrt())
    ones = bands.mask().reduce(ee.Reducer.min()).selfMask().rename(_PIXELS)
    return unit.addBands(ones)


def ee_zonal(
    source: EarthEngineSource, table: gpd.GeoDataFrame, years: list[int], progress: Progress | None = None
) -> gpd.GeoDataFrame:
    report = progress or (lambda fraction, message: None)
    sums = ZonalSums(len(table), len(years))
    area_px = np.full(len(table), np.nan)
    batches = []
    for lattice, rows in lattice_groups(source, lonlat_of(table), lonlat_bounds(table)):
        geometries = table.geometry.iloc[rows].to_crs(lattice.grid.crs).to_numpy()
        area_px[rows] = shapely.area(geometries) / NATIVE_RESOLUTION**2
        crs = crs_code(lattice.grid.crs)
        for start in range(0, len(rows), BATCH):
            batches.append((crs, rows[start : start + BATCH], geometries[start : start + BATCH]))
    total = len(batches) * len(years)
    for y, year in enumerate(years):
        image = unit_image(source.image(year))
        for b, (crs, rows, geometries) in enumerate(batches):
            info = _reduce(image, crs, rows, geometries)
            found = _sums(info, len(rows))
            sums.add(y, rows, found[:, N_BANDS], found[:, :N_BANDS])
            done = y * len(batches) + b + 1
            report(done / total, f"{done} of {total} requests to Earth Engine")
    return assemble_rows(table, years, [sums.columns(y, area_px) for y in range(len(years))])


def ee_points(source: EarthEngineSource, table: gpd.GeoDataFrame, years: list[int]) -> gpd.GeoDataFrame:
    """The vector under each point per year, ``BATCH`` points per ``reduceRegions`` request (``source.sample``)."""
    lonlat = lonlat_of(table)
    columns = []
    for year in years:
        vectors = np.vstack([source.sample(lonlat[s : s + BATCH], year) for s in range(0, len(lonlat), BATCH)])
        valid = np.isfinite(vectors).all(axis=1)
        columns.append({"valid": valid, **{name: vectors[:, i] for i, name in enumerate(BAND_NAMES)}})
    return assemble_rows(table, years, columns)


def _reduce(image: ee.Image, crs: str, rows: np.ndarray, geometries: np.ndarray) -> dict:
    projection = ee.Projection(crs)
    features = [
        ee.Feature(ee.Geometry(shapely.geometry.mapping(g), projection, False), {_INDEX: i})
        for i, g in enumerate(geometries)
    ]
    reduced = image.reduceRegions(
        collection=ee.FeatureCollection(features), reducer=ee.Reducer.sum(), scale=NATIVE_RESOLUTION, crs=crs
    )
    with ee_errors("measuring the polygons' embeddings"):
        return reduced.getInfo()


def _sums(info: dict, n: int) -> np.ndarray:
    """(n, 65) float64: the 64 weighted vector sums and the weighted pixel count of each feature (0 without data)."""
    vectors = vectors_from_features(info, n).astype(np.float64)
    pixels = np.zeros(n)
    for position, feature in enumerate((info or {}).get("features", [])):
        props = feature.get("properties") or {}
        row = int(props.get(_INDEX, position))
        value = props.get(_PIXELS)
        if 0 <= row < n and isinstance(value, (int, float)):
            pixels[row] = value
    vectors[~np.isfinite(vectors).all(axis=1) | (pixels == 0)] = 0.0  # no data: sums of nothing
    return np.column_stack([vectors, pixels])
