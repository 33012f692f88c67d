"""Class maps and thresholded products as polygons, like Earth Engine's ``reduceToVectors``.

Pixels of one class that touch along an edge (4-connectivity) become one polygon, traced along pixel edges by
``rasterio.features.shapes``, so before simplification a polygon's area is exactly its pixels' area. Each polygon
carries its class (or, for a thresholded product, the value 1) and its area: planar in the grid's projected CRS
(UTM for AEF), geodesic on WGS84 for lon/lat grids. Simplification (Douglas-Peucker, ``shapely``) keeps
topology within each polygon; polygons smaller than ``min_area_m2`` are dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Geod, Transformer
from rasterio.crs import CRS
from rasterio.features import shapes
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from ..core.grid import LONLAT, Grid
from .area import M2_PER_HA

_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class VectorLayer:
    """Polygons with properties (``class``, ``area_m2``, ``area_ha``) in ``crs``."""

    geometries: tuple[BaseGeometry, ...]
    properties: tuple[dict, ...]
    crs: CRS

    def __len__(self) -> int:
        return len(self.geometries)

    @property
    def total_area_m2(self) -> float:
        return float(sum(p["area_m2"] for p in self.properties))

    def to_crs(self, crs: CRS | str) -> VectorLayer:
        """The same polygons in another CRS (areas stay those measured on the source grid)."""
        crs = CRS.from_user_input(crs)
        if crs == self.crs:
            return self
        project = Transformer.from_crs(self.crs, crs, always_xy=True).transform
        return VectorLayer(
            tuple(shapely.transform(g, project, interleaved=False) for g in self.geometries), self.properties, crs
        )

    def geojson(self, crs: CRS | str = LONLAT) -> dict:
        """A GeoJSON FeatureCollection in ``crs`` (WGS84 by default, as RFC 7946 asks; other CRSs are named)."""
        layer = self.to_crs(crs)
        collection: dict = {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "geometry": mapping(g), "properties": dict(p)}
                for g, p in zip(layer.geometries, layer.properties)
            ],
        }
        if layer.crs != LONLAT:
            collection["crs"] = {"type": "name", "properties": {"name": layer.crs.to_string()}}
        return collection


def class_polygons(
    labels: np.ndarray,
    grid: Grid,
    *,
    nodata: int | None = -1,
    simplify: float = 0.0,
    min_area_m2: float = 0.0,
    property_name: str = "class",
) -> VectorLayer:
    """Polygons of every class of an integer map (``nodata`` pixels, by default -1, become none).

    ``simplify`` is a tolerance in the grid's CRS units (metres for UTM); 0 keeps the exact pixel edges.
    """
    labels = np.asarray(labels)
    if labels.shape != grid.shape:
        raise ValueError(f"labels {labels.shape} do not match the grid {grid.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError("class polygons need an integer map; threshold values with threshold_polygons")
    data = labels.astype(np.int32, copy=False)
    valid = np.ones(grid.shape, bool) if nodata is None else data != nodata
    geometries, properties = [], []
    for geometry, value in _traced(data, valid, grid):
        if simplify > 0:
            geometry = geometry.simplify(simplify, preserve_topology=True)
        area = _area_m2(geometry, grid.crs)
        if area < min_area_m2 or geometry.is_empty:
            continue
        geometries.append(geometry)
        properties.append({property_name: int(value), "area_m2": area, "area_ha": area / M2_PER_HA})
    return VectorLayer(tuple(geometries), tuple(properties), grid.crs)


def threshold_polygons(
    values: np.ndarray, grid: Grid, threshold: float, *, simplify: float = 0.0, min_area_m2: float = 0.0
) -> VectorLayer:
    """Polygons of the pixels at or above ``threshold`` (NaN is never above), with property ``value`` = 1."""
    with np.errstate(invalid="ignore"):
        above = np.asarray(values) >= threshold
    labels = np.where(above, 1, -1).astype(np.int32)
    return class_polygons(labels, grid, simplify=simplify, min_area_m2=min_area_m2, property_name="value")


def _traced(data: np.ndarray, valid: np.ndarray, grid: Grid) -> Iterator[tuple[BaseGeometry, int]]:
    if not valid.any():
        return
    for geojson, value in shapes(data, mask=valid, connectivity=4, transform=grid.transform):
        yield shape(geojson), int(value)


def _area_m2(geometry: BaseGeometry, crs: CRS) -> float:
    if crs.is_geographic:
        return abs(_GEOD.geometry_area_perimeter(geometry)[0])
    _, metres_per_unit = crs.linear_units_factor
    return float(geometry.area) * metres_per_unit**2
