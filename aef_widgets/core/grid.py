"""A raster grid: where pixels are, independent of what they hold."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from affine import Affine
from pyproj import Transformer
from rasterio.crs import CRS

LONLAT = CRS.from_epsg(4326)


@dataclass(frozen=True)
class Grid:
    """North-up pixel grid: ``transform`` maps (col, row) to CRS coordinates of pixel corners."""

    transform: Affine
    width: int
    height: int
    crs: CRS

    @property
    def shape(self) -> tuple[int, int]:
        return (self.height, self.width)

    @property
    def resolution(self) -> float:
        """Pixel size in CRS units (grids here have square pixels)."""
        return abs(self.transform.a)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) in CRS units."""
        left, top = self.transform @ (0, 0)
        right, bottom = self.transform @ (self.width, self.height)
        return (min(left, right), min(bottom, top), max(left, right), max(bottom, top))

    def lonlat_bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees, densified so curved edges are covered."""
        return bounds_to_lonlat(self.bounds, self.crs)

    def pixel_of(self, lon: float, lat: float) -> tuple[int, int]:
        """(row, col) of the pixel containing a lon/lat point (may be outside the grid)."""
        x, y = Transformer.from_crs(LONLAT, self.crs, always_xy=True).transform(lon, lat)
        col, row = ~self.transform @ (x, y)
        return int(np.floor(row)), int(np.floor(col))

    def contains(self, row: int, col: int) -> bool:
        return 0 <= row < self.height and 0 <= col < self.width


@dataclass(frozen=True)
class Footprint:
    """Where a source has data: bounds in its CRS."""

    bounds: tuple[float, float, float, float]
    crs: CRS

    def lonlat_bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees."""
        return bounds_to_lonlat(self.bounds, self.crs)

    @property
    def center_lonlat(self) -> tuple[float, float]:
        """The centre in lon/lat, longitude in [-180, 180) even for a footprint across the antimeridian."""
        west, south, east, north = self.lonlat_bounds()
        return ((((west + east) / 2) + 180) % 360 - 180, (south + north) / 2)


def bounds_to_lonlat(bounds: tuple[float, float, float, float], crs: CRS) -> tuple[float, float, float, float]:
    """Transform (left, bottom, right, top) to lon/lat degrees, densifying the edges.

    Bounds that cross the antimeridian come back with ``east`` above 180 (west < east always), the convention
    Leaflet and the AOI share: 179..181, not 179..-179, which ``(west + east) / 2`` would put at longitude 0.
    """
    transformer = Transformer.from_crs(crs, LONLAT, always_xy=True)
    west, south, east, north = transformer.transform_bounds(*bounds, densify_pts=21)
    if east < west:  # pyproj's way of saying the bounds cross 180 degrees
        east += 360
    return (west, south, east, north)


def transform_bounds(
    bounds: tuple[float, float, float, float], src: CRS, dst: CRS
) -> tuple[float, float, float, float]:
    """Bounds in another CRS, densified; identity when the CRSs are equal."""
    if CRS.from_user_input(src) == CRS.from_user_input(dst):
        return tuple(bounds)  # type: ignore[return-value]
    transformer = Transformer.from_crs(src, dst, always_xy=True)
    return tuple(transformer.transform_bounds(*bounds, densify_pts=21))  # type: ignore[return-value]
