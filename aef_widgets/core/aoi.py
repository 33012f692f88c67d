"""Areas of interest: frozen polygons in lon/lat with the operations every engine needs.

An AOI is stored as a MultiPolygon in EPSG:4326 (what Leaflet draws and GeoJSON carries). It can be projected onto
any source's grid, where it becomes a pixel mask; its area is geodesic, so it does not depend on a projection.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from typing import Any

import numpy as np
from pyproj import Geod, Transformer
from rasterio.crs import CRS
from rasterio.features import geometry_mask

from .errors import AOIError
from .grid import LONLAT, Grid

Ring = tuple[tuple[float, float], ...]
Polygon = tuple[Ring, ...]
_GEOD = Geod(ellps="WGS84")
#: Longest edge, in degrees, kept straight when projecting; longer edges are densified.
_MAX_EDGE_DEG = 0.01


@dataclass(frozen=True)
class AOI:
    """A (multi)polygon area of interest in lon/lat degrees."""

    polygons: tuple[Polygon, ...]

    def __post_init__(self) -> None:
        if not self.polygons:
            raise AOIError("an AOI needs at least one polygon")
        for polygon in self.polygons:
            if not polygon:
                raise AOIError("a polygon needs an outer ring")
            for ring in polygon:
                _check_ring(ring)
            if _planar_area_deg2(polygon[0]) < 1e-10:  # about a square metre: a line or a point, not an area
                raise AOIError("the AOI has no area (are its points all on a line?)")

    # construction -----------------------------------------------------------------------------------------
    @classmethod
    def from_bounds(cls, west: float, south: float, east: float, north: float, crs: Any = None) -> AOI:
        """A rectangle; ``crs`` (default lon/lat) says what units the bounds are in."""
        if not (west < east and south < north):
            raise AOIError(f"bounds must satisfy west < east and south < north, got {(west, south, east, north)}")
        ring = [(west, south), (east, south), (east, north), (west, north), (west, south)]
        if crs is not None and CRS.from_user_input(crs) != LONLAT:
            ring = _densify(ring, max_edge=max(east - west, north - south) / 20)
            to_lonlat = Transformer.from_crs(CRS.from_user_input(crs), LONLAT, always_xy=True)
            xs, ys = to_lonlat.transform(*zip(*ring))
            ring = list(zip(xs, ys))
        return cls((((tuple(map(tuple, ring))),),))

    @classmethod
    def from_geojson(cls, obj: Mapping | str | PathLike) -> AOI:
        """From a GeoJSON Geometry, Feature or FeatureCollection (dict, JSON text or file path)."""
        if isinstance(obj, PathLike) or (isinstance(obj, str) and not obj.lstrip().startswith("{")):
            try:
                with open(obj) as f:
                    obj = json.load(f)
            except OSError as e:
                raise AOIError(f"cannot read GeoJSON file {obj}: {e.strerror}") from e
            except json.JSONDecodeError as e:
                raise AOIError(f"not valid GeoJSON: {e}") from e
        elif isinstance(obj, str):
            try:
                obj = json.loads(obj)
            except json.JSONDecodeError as e:
                raise AOIError(f"not valid GeoJSON: {e}") from e
        polygons = _polygons_of(obj)
        if not polygons:
            raise AOIError("the GeoJSON holds no Polygon or MultiPolygon")
        return cls(tuple(polygons))

    # properties -------------------------------------------------------------------------------------------
    @property
    def geometry(self) -> dict:
        """GeoJSON MultiPolygon (or Polygon when there is one) in lon/lat."""
        coords = [[[list(p) for p in ring] for ring in polygon] for polygon in self.polygons]
        if len(coords) == 1:
            return {"type": "Polygon", "coordinates": coords[0]}
        return {"type": "MultiPolygon", "coordinates": coords}

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees."""
        points = np.array([p for polygon in self.polygons for p in polygon[0]])
        return (points[:, 0].min(), points[:, 1].min(), points[:, 0].max(), points[:, 1].max())

    @property
    def area_km2(self) -> float:
        """Geodesic area on the WGS84 ellipsoid, holes subtracted."""
        total = 0.0
        for polygon in self.polygons:
            for i, ring in enumerate(polygon):
                lons, lats = zip(*ring)
                area, _ = _GEOD.polygon_area_perimeter(lons, lats)
                total += abs(area) if i == 0 else -abs(area)
        return total / 1e6

    # projection -------------------------------------------------------------------------------------------
    def to_crs(self, crs: Any) -> dict:
        """The geometry in another CRS, with long edges densified so they stay where they were drawn."""
        crs = CRS.from_user_input(crs)
        transformer = Transformer.from_crs(LONLAT, crs, always_xy=True)
        polygons = []
        for polygon in self.polygons:
            rings = []
            for ring in polygon:
                xs, ys = transformer.transform(*zip(*_densify(ring, _MAX_EDGE_DEG)))
                rings.append(list(zip(xs, ys)))
            polygons.append(rings)
        return {"type": "MultiPolygon", "coordinates": polygons}

    def bounds_in(self, crs: Any) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) of the projected geometry."""
        coords = np.array([p for polygon in self.to_crs(crs)["coordinates"] for p in polygon[0]])
        return (coords[:, 0].min(), coords[:, 1].min(), coords[:, 0].max(), coords[:, 1].max())

    def mask(self, grid: Grid) -> np.ndarray:
        """Boolean (rows, cols): True for pixels whose centre lies inside the AOI."""
        return geometry_mask([self.to_crs(grid.crs)], out_shape=grid.shape, transform=grid.transform, invert=True)


def _check_ring(ring: Ring) -> None:
    if len(ring) < 4 or ring[0] != ring[-1]:
        raise AOIError("a polygon ring needs at least three distinct points and must be closed")
    pts = np.asarray(ring, dtype=float)
    if pts.ndim != 2 or pts.shape[1] != 2 or not np.isfinite(pts).all():
        raise AOIError("polygon coordinates must be finite (lon, lat) pairs")
    if (np.abs(pts[:, 0]) > 180).any() or (np.abs(pts[:, 1]) > 90).any():
        raise AOIError("coordinates must be longitude (-180..180) and latitude (-90..90) in degrees")


def _planar_area_deg2(ring: Ring) -> float:
    x, y = np.asarray(ring, dtype=float).T
    return abs(float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))) / 2


def _closed_ring(coords: Sequence) -> Ring:
    try:
        ring = tuple((float(p[0]), float(p[1])) for p in coords)
    except (TypeError, ValueError, IndexError) as e:
        raise AOIError("polygon coordinates must be (lon, lat) pairs") from e
    if ring and ring[0] != ring[-1]:
        ring = (*ring, ring[0])
    return ring


def _polygons_of(obj: Any) -> list[Polygon]:
    if not isinstance(obj, Mapping):
        raise AOIError("GeoJSON must be an object with a 'type'")
    kind = obj.get("type")
    if kind == "FeatureCollection":
        return [p for feature in obj.get("features", []) for p in _polygons_of(feature)]
    if kind == "Feature":
        return _polygons_of(obj.get("geometry") or {"type": None})
    if kind == "GeometryCollection":
        return [p for g in obj.get("geometries", []) for p in _polygons_of(g)]
    if kind == "Polygon":
        return [tuple(_closed_ring(r) for r in obj.get("coordinates", []))]
    if kind == "MultiPolygon":
        return [tuple(_closed_ring(r) for r in poly) for poly in obj.get("coordinates", [])]
    if kind in ("Point", "MultiPoint", "LineString", "MultiLineString"):
        return []
    raise AOIError(f"unsupported GeoJSON type {kind!r}")


def _densify(ring: Sequence[tuple[float, float]], max_edge: float) -> list[tuple[float, float]]:
    out = [tuple(ring[0])]
    for (x0, y0), (x1, y1) in zip(ring[:-1], ring[1:]):
        n = max(1, int(np.ceil(max(abs(x1 - x0), abs(y1 - y0)) / max_edge)))
        for t in np.arange(1, n + 1) / n:
            out.append((x0 + (x1 - x0) * t, y0 + (y1 - y0) * t))
    return out
