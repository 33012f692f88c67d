"""Polygon geometry in lon/lat done right: wrapped longitudes, the antimeridian, invalid rings, and true areas.

Leaflet reports longitudes on copies of the world (a click at -448.79 is -88.79), so polygons are shifted by whole
turns until their west edge is in [-180, 180) and split at 180 degrees when they cross it. Self-intersecting rings
are repaired with shapely's ``make_valid``; a hole reaching outside its outer ring has no sensible repair and is
refused. Overlapping polygons are merged, so an area is never counted twice. Edges are straight lines in lon/lat
(as GeoJSON defines them); areas are geodesic on the WGS84 ellipsoid (in its cylindrical
equal-area projection) of rings densified along those lines, so the
area is the area of exactly what is masked, even for a box as wide as the world.

Lon/lat boxes are ``(west, south, east, north)``; one that crosses the antimeridian has ``east > 180``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import shapely
from pyproj import Transformer
from shapely.affinity import translate
from shapely.geometry import MultiPolygon, box
from shapely.geometry import Polygon as ShapelyPolygon
from shapely.geometry.polygon import orient

from .errors import AOIError

Ring = tuple[tuple[float, float], ...]
Polygon = tuple[Ring, ...]
Box = tuple[float, float, float, float]
_TO_EQUAL_AREA = Transformer.from_crs("EPSG:4326", "+proj=cea +ellps=WGS84", always_xy=True)
#: Longest edge, in degrees, kept straight when projecting or measuring; longer edges are densified.
MAX_EDGE_DEG = 0.01
#: Longitudes further than this from 0 are not wrapped positions on a map but a mistake (e.g. metres).
_MAX_ABS_LON = 3600.0
_WORLD = box(-180, -90, 180, 90)


def wrap_lon(lon: float | np.ndarray) -> float | np.ndarray:
    """Longitude in [-180, 180): Leaflet's world copies (lon + 360 k) back onto the one world."""
    wrapped = (np.asarray(lon, dtype=float) + 180.0) % 360.0 - 180.0
    return wrapped if np.ndim(lon) else float(wrapped)


def normalize_polygons(polygons: Sequence[Polygon]) -> tuple[Polygon, ...]:
    """Valid, non-overlapping polygons with longitudes in [-180, 180], split at the antimeridian."""
    parts = [_valid_shape(polygon, i) for i, polygon in enumerate(polygons)]
    merged = parts[0] if len(parts) == 1 else shapely.union_all(parts)
    out = tuple(_as_tuples(p) for p in polygon_parts(merged))
    if not out:
        raise AOIError("the AOI has no area (are its points all on a line?)")
    return out


def already_normal(polygons: Sequence[Polygon]) -> bool:
    """True for one valid polygon inside [-180, 180]: kept exactly as given, with no shapely round trip."""
    if len(polygons) != 1:
        return False
    points = np.array([p for ring in polygons[0] for p in ring])
    if (np.abs(points[:, 0]) > 180).any():
        return False
    return bool(shapely.is_valid(ShapelyPolygon(polygons[0][0], polygons[0][1:])))


def check_coordinates(ring: Ring) -> None:
    """A closed ring of finite (lon, lat) pairs with latitudes on the globe."""
    if len(ring) < 4 or ring[0] != ring[-1]:
        raise AOIError("a polygon ring needs at least three distinct points and must be closed")
    pts = np.asarray(ring, dtype=float)
    if pts.ndim != 2 or pts.shape[1] != 2 or not np.isfinite(pts).all():
        raise AOIError("polygon coordinates must be finite (lon, lat) pairs")
    if (np.abs(pts[:, 0]) > _MAX_ABS_LON).any() or (np.abs(pts[:, 1]) > 1000).any():
        x, y = pts[0]
        raise AOIError(
            f"coordinates like ({x:.6g}, {y:.6g}) are not degrees (metres of a projected CRS?): AOIs are "
            "(longitude, latitude); pass crs= to AOI.from_bounds, or reproject GeoJSON to EPSG:4326"
        )
    if (np.abs(pts[:, 1]) > 90).any():
        raise AOIError("latitudes must be between -90 and 90: coordinates are (longitude, latitude) in degrees")


def polygon_parts(geometry: shapely.Geometry) -> list[ShapelyPolygon]:
    """The polygons with area in any geometry (``make_valid`` may leave lines and points beside them)."""
    if isinstance(geometry, ShapelyPolygon):
        return [geometry] if geometry.area > 0 else []
    if hasattr(geometry, "geoms"):
        return [p for g in geometry.geoms for p in polygon_parts(g)]
    return []


def shapes(polygons: Iterable[Polygon]) -> MultiPolygon:
    """Tuples of rings as one shapely MultiPolygon."""
    return MultiPolygon([ShapelyPolygon(p[0], p[1:]) for p in polygons])


def box_shape(bounds: Box, pad: float = 0.0) -> shapely.Geometry:
    """A lon/lat box as shapely geometry in [-180, 180], in two parts when it crosses the antimeridian."""
    west, south, east, north = bounds
    south, north = max(-90.0, south - pad), min(90.0, north + pad)
    west, east = west - pad, east + pad
    if east - west >= 360:
        return box(-180, south, 180, north)
    shift = 360 * math.floor((west + 180) / 360)
    west, east = west - shift, east - shift
    if east <= 180:
        return box(west, south, east, north)
    return MultiPolygon([box(west, south, 180, north), box(-180, south, east - 360, north)])


def clip(polygons: Sequence[Polygon], bounds: Box, pad: float = 0.0) -> tuple[Polygon, ...]:
    """The parts of the polygons inside a lon/lat box (padded by ``pad`` degrees), possibly none."""
    inside = shapes(polygons).intersection(box_shape(bounds, pad))
    return tuple(_as_tuples(p) for p in polygon_parts(inside))


def lon_extent(polygons: Sequence[Polygon]) -> tuple[float, float]:
    """(west, east) of the narrowest longitude range holding every polygon; east > 180 across the antimeridian."""
    spans = sorted((min(x for x, _ in p[0]), max(x for x, _ in p[0])) for p in polygons)
    merged: list[list[float]] = []
    for west, east in spans:
        if merged and west <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], east)
        else:
            merged.append([west, east])
    # the widest gap between covered ranges, the one through 180 included, is what the extent leaves out
    gaps = [(merged[0][0] + 360 - merged[-1][1], len(merged) - 1)]
    gaps += [(merged[i + 1][0] - merged[i][1], i) for i in range(len(merged) - 1)]
    _, i = max(gaps)
    if i == len(merged) - 1:
        return merged[0][0], merged[-1][1]
    return merged[i + 1][0], merged[i][1] + 360


def geodesic_area_m2(polygons: Iterable[Polygon]) -> float:
    """Area on the WGS84 ellipsoid of polygons whose edges are straight in lon/lat, holes subtracted.

    Measured in the ellipsoidal cylindrical equal-area projection, where parallels and meridians stay straight:
    exact for boxes, however wide (the world box, whose ring a geodesic area sees as a line along the 180th
    meridian and measures as 0), and for other edges densified to ``MAX_EDGE_DEG``, the same lines the mask follows.
    """
    total = 0.0
    for polygon in polygons:
        for i, ring in enumerate(polygon):
            xs, ys = _TO_EQUAL_AREA.transform(*densify(ring, MAX_EDGE_DEG).T)
            xs, ys = xs - xs[0], ys - ys[0]  # relative to a vertex: the shoelace loses less to rounding
            area = abs(float(np.dot(xs[:-1], ys[1:]) - np.dot(xs[1:], ys[:-1]))) / 2
            total += area if i == 0 else -area
    return total


def densify(ring: Sequence[tuple[float, float]], max_edge: float) -> np.ndarray:
    """(n, 2) points of the ring with points added so no edge is longer than ``max_edge`` in either coordinate."""
    pts = np.asarray(ring, dtype=float)
    edges = np.diff(pts, axis=0)
    steps = np.maximum(1, np.ceil(np.abs(edges).max(axis=1) / max_edge)).astype(np.int64)
    edge = np.repeat(np.arange(len(edges)), steps)
    step = np.arange(len(edge)) - np.repeat(np.cumsum(steps) - steps, steps) + 1  # 1..n along each edge
    t = (step / steps[edge])[:, None]
    return np.vstack([pts[:1], pts[edge] + edges[edge] * t])


def _valid_shape(polygon: Polygon, index: int) -> shapely.Geometry:
    shell = shapely.make_valid(ShapelyPolygon(polygon[0]))
    for hole in polygon[1:]:
        if not shell.covers(shapely.make_valid(ShapelyPolygon(hole))):
            which = f"polygon {index + 1}" if index else "the polygon"
            raise AOIError(f"a hole of {which} reaches outside its outer ring; fix the file (holes lie inside)")
    return _onto_world(shapely.make_valid(ShapelyPolygon(polygon[0], polygon[1:])))


def _onto_world(shape: shapely.Geometry) -> shapely.Geometry:
    """Shifted by whole turns so its west edge is in [-180, 180), and split at 180 when it crosses it."""
    west, _, east, _ = shape.bounds
    if east - west > 360:
        raise AOIError("the AOI spans more than 360 degrees of longitude; draw it on one copy of the world")
    shift = 360 * math.floor((west + 180) / 360)
    if shift:
        shape = translate(shape, -shift)
    if east - shift <= 180:
        return shape
    beyond = translate(shape.intersection(box(180, -90, 540, 90)), -360)
    return shapely.union(shape.intersection(_WORLD), beyond)


def _as_tuples(polygon: ShapelyPolygon) -> Polygon:
    polygon = orient(polygon, 1.0)  # outer rings counter-clockwise, holes clockwise, as RFC 7946 asks
    rings = [polygon.exterior, *polygon.interiors]
    return tuple(tuple((float(x), float(y)) for x, y in ring.coords) for ring in rings)
