"""A raster grid: where pixels are, independent of what they hold."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from affine import Affine
from pyproj import Transformer
from rasterio.crs import CRS

LONLAT = CRS.from_epsg(4326)
#: Length of a degree of latitude (the mean over the ellipsoid), for describing lon/lat pixel sizes.
_METRES_PER_DEGREE = 111_195


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

    @property
    def resolution_text(self) -> str:
        """The pixel size in words: "10 m", or "0.0001° (about 11 m)" on a lon/lat grid."""
        return format_resolution(self.resolution, self.crs)

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
        """The centre in lon/lat, in the frame of ``lonlat_bounds``: about 180 (not 0) across the antimeridian."""
        west, south, east, north = self.lonlat_bounds()
        return ((west + east) / 2, (south + north) / 2)


def format_resolution(resolution: float, crs: CRS) -> str:
    """A pixel size in the units of its CRS, in words: "10 m", "30 ft", or "0.0001° (about 11 m)" in lon/lat.

    Lon/lat pixel sizes are degrees; printed as metres ("0.000109851 m") they would be off by a factor of 100,000.
    """
    if CRS.from_user_input(crs).is_geographic:
        return f"{resolution:.2g}° (about {resolution * _METRES_PER_DEGREE:,.0f} m)"
    unit = CRS.from_user_input(crs).linear_units or "m"
    return f"{resolution:g} {'m' if unit.lower() in ('metre', 'meter', 'm', 'unknown') else unit}"


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
