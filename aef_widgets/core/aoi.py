"""Areas of interest: frozen polygons in lon/lat with the operations every engine needs.

An AOI is stored as a MultiPolygon in EPSG:4326 (what Leaflet draws and GeoJSON carries), normalised on
construction (``core/geometry.py``): longitudes wrapped onto one world and split at the antimeridian, invalid rings
repaired, overlaps merged. It can be projected onto any source's grid, where it becomes a pixel mask; its area is
geodesic, of the same straight lon/lat edges the mask follows, so it does not depend on a projection.

GeoJSON content (``from_geojson``: a dict, text or bytes, e.g. an upload) is never opened as a path; reading a file
is the separate, explicit ``from_geojson_file``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from os import PathLike
from typing import Any

import numpy as np
from pyproj import Transformer
from rasterio.crs import CRS
from rasterio.errors import NotGeoreferencedWarning
from rasterio.features import geometry_mask

from . import geometry
from .errors import AOIError
from .geojson import parse_geojson, polygons_of, read_geojson_file
from .grid import LONLAT, Grid

# rasterio 1.4 warns of "no geotransform" from the in-memory raster it burns shapes into, though it is given one.
# A filter for that one warning, set once: ``catch_warnings`` around each call is not thread-safe, and masks are
# made in the chunk threads.
warnings.filterwarnings("ignore", category=NotGeoreferencedWarning, module=r"rasterio\.features")

Ring = tuple[tuple[float, float], ...]
Polygon = tuple[Ring, ...]
#: Margin, in degrees, kept around a grid when the AOI is clipped to it before projecting.
_CLIP_PAD_DEG = 0.05
#: AOIs wider or taller than this (a UTM zone is 6 degrees wide) are clipped to a grid before being projected onto it.
_CLIP_ABOVE_DEG = 6.0


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
                geometry.check_coordinates(ring)
        if not geometry.already_normal(self.polygons):
            object.__setattr__(self, "polygons", geometry.normalize_polygons(self.polygons))
        if max(_planar_area_deg2(polygon[0]) for polygon in self.polygons) < 1e-10:  # about 1 m²: not an area
            raise AOIError("the AOI has no area (are its points all on a line?)")

    # construction -----------------------------------------------------------------------------------------
    @classmethod
    def from_bounds(cls, west: float, south: float, east: float, north: float, crs: Any = None) -> AOI:
        """A rectangle; ``crs`` (default lon/lat) says what units the bounds are in.

        In lon/lat, ``east`` may exceed 180 (or ``west`` be below -180) for a box across the antimeridian, as
        Leaflet reports it; the box is split there. A box 360 degrees wide or more is the whole world's width.
        """
        if not (west < east and south < north):
            raise AOIError(f"bounds must satisfy west < east and south < north, got {(west, south, east, north)}")
        if crs is not None and CRS.from_user_input(crs) != LONLAT:
            ring = geometry.densify(
                [(west, south), (east, south), (east, north), (west, north), (west, south)],
                max_edge=max(east - west, north - south) / 20,
            )
            to_lonlat = Transformer.from_crs(CRS.from_user_input(crs), LONLAT, always_xy=True)
            xs, ys = to_lonlat.transform(*ring.T)
            return cls(((tuple(zip(map(float, xs), map(float, ys))),),))
        if east - west >= 360 and max(abs(south), abs(north)) <= 90:  # degrees, the world's width or more
            west, east = -180.0, 180.0
        ring = ((west, south), (east, south), (east, north), (west, north), (west, south))
        return cls(((ring,),))

    @classmethod
    def from_geojson(cls, obj: Mapping | str | bytes) -> AOI:
        """From GeoJSON content: a Geometry, Feature or FeatureCollection as a dict, JSON text or UTF-8 bytes.

        Text is always parsed as GeoJSON, never opened as a file (uploads are untrusted): use
        ``from_geojson_file`` to read a file.
        """
        if isinstance(obj, PathLike):
            raise TypeError("AOI.from_geojson takes GeoJSON content; to read a file use AOI.from_geojson_file(path)")
        if isinstance(obj, (str, bytes, bytearray, memoryview)):
            obj = parse_geojson(obj)
        try:
            polygons = polygons_of(obj)
        except RecursionError:  # a dict built in code can be deeper than Python's stack
            raise AOIError("not usable GeoJSON: it is nested far too deeply to be a geometry") from None
        if not polygons:
            raise AOIError("the GeoJSON holds no Polygon or MultiPolygon")
        return cls(tuple(polygons))

    @classmethod
    def from_geojson_file(cls, path: str | PathLike) -> AOI:
        """From a GeoJSON file named by code; only regular files within the size limit are read."""
        return cls.from_geojson(read_geojson_file(path))

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
        """(west, south, east, north) in degrees; ``east`` exceeds 180 when the AOI crosses the antimeridian."""
        lats = [y for polygon in self.polygons for _, y in polygon[0]]
        west, east = geometry.lon_extent(self.polygons)
        return (west, min(lats), east, max(lats))

    @property
    def area_km2(self) -> float:
        """Geodesic area on the WGS84 ellipsoid, holes subtracted, of the lon/lat-straight edges the mask uses."""
        return geometry.geodesic_area_m2(self.polygons) / 1e6

    # projection -------------------------------------------------------------------------------------------
    def clipped(self, bounds: tuple[float, float, float, float], pad: float = 0.0) -> AOI | None:
        """The part of the AOI inside a lon/lat box (``east`` > 180 across the antimeridian), or None."""
        west, south, east, north = self.bounds
        c_west, c_south, c_east, c_north = bounds
        if c_west - pad <= west and east <= c_east + pad and c_south - pad <= south and north <= c_north + pad:
            return self  # wholly inside: the usual case of an AOI and the grid read for it
        parts = geometry.clip(self.polygons, bounds, pad)
        return AOI(parts) if parts else None

    def to_crs(self, crs: Any) -> dict:
        """The geometry in another CRS, with long edges densified so they stay where they were drawn."""
        crs = CRS.from_user_input(crs)
        transformer = Transformer.from_crs(LONLAT, crs, always_xy=True)
        polygons = []
        for polygon in self.polygons:
            rings = []
            for ring in polygon:
                xs, ys = transformer.transform(*geometry.densify(ring, geometry.MAX_EDGE_DEG).T)
                rings.append(list(zip(xs, ys)))
            polygons.append(rings)
        return {"type": "MultiPolygon", "coordinates": polygons}

    def bounds_in(self, crs: Any, within: tuple[float, float, float, float] | None = None) -> tuple[float, ...]:
        """(left, bottom, right, top) of the projected geometry.

        ``within`` (a lon/lat box) first clips the AOI to where ``crs`` is used, so that an AOI far wider than a
        UTM zone is not projected where the projection is meaningless. Raises ``AOIError`` when nothing is left.
        """
        aoi = self if within is None else self.clipped(within, _CLIP_PAD_DEG)
        if aoi is None:
            raise AOIError("the AOI lies outside the area asked for")
        coords = np.array([p for polygon in aoi.to_crs(crs)["coordinates"] for p in polygon[0]])
        return (coords[:, 0].min(), coords[:, 1].min(), coords[:, 0].max(), coords[:, 1].max())

    def mask(self, grid: Grid) -> np.ndarray:
        """Boolean (rows, cols): True for pixels whose centre lies inside the AOI.

        An AOI wider than a UTM zone is clipped to the grid's surroundings before it is projected, so an AOI much
        larger than the grid (a hemisphere over one UTM tile) masks exactly the pixels inside it. Smaller AOIs are
        projected whole: clipping adds vertices that bend their projected edges a little differently for each
        grid, and a chunk of an AOI must mask exactly the pixels the whole AOI masks there.
        """
        west, south, east, north = self.bounds
        aoi: AOI | None = self
        if max(east - west, north - south) > _CLIP_ABOVE_DEG:
            aoi = self.clipped(grid.lonlat_bounds(), _CLIP_PAD_DEG)
        if aoi is None:
            return np.zeros(grid.shape, dtype=bool)
        return geometry_mask([aoi.to_crs(grid.crs)], out_shape=grid.shape, transform=grid.transform, invert=True)


def _planar_area_deg2(ring: Ring) -> float:
    x, y = np.asarray(ring, dtype=float).T
    return abs(float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))) / 2
