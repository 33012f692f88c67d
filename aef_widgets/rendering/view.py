"""The map view as a raster: a Web Mercator grid at screen resolution, and fast resampling into it.

Overlays are drawn at the size the map shows them, so the browser neither smooths nor wastes pixels. The pixel
mapping from a source grid to the view is computed once by GDAL's warper (nearest neighbour) on an index raster and
then reused for every layer and every click until the view moves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.warp import reproject

from ..core.grid import Grid, transform_bounds

WEB_MERCATOR = CRS.from_epsg(3857)
LONLAT = CRS.from_epsg(4326)
#: Web Mercator metres per degree of longitude (the sphere of radius 6378137 m).
_MERCATOR_M_PER_DEG = 6378137 * math.pi / 180
#: Overlays wider or taller than this many pixels are drawn at a coarser scale.
MAX_OVERLAY_PX = 2048


@dataclass(frozen=True)
class MapView:
    """What the map shows: lon/lat bounds and the size in screen pixels."""

    west: float
    south: float
    east: float
    north: float
    width_px: int = 1024
    height_px: int = 1024

    def __post_init__(self) -> None:
        if not (self.west < self.east and self.south < self.north):
            raise ValueError(f"empty view {self}")

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return (self.west, self.south, self.east, self.north)

    @property
    def metres_per_px(self) -> float:
        """Web Mercator metres per screen pixel."""
        # Web Mercator x is linear in longitude, so no projection (which would wrap east of 180 degrees) is needed
        return (self.east - self.west) * _MERCATOR_M_PER_DEG / max(1, self.width_px)

    def clipped(self, clip: tuple[float, float, float, float]) -> tuple[float, float, float, float] | None:
        """(west, south, east, north) of the part of the view inside ``clip`` (lon/lat bounds), None if empty."""
        west, south = max(self.west, clip[0]), max(self.south, clip[1])
        east, north = min(self.east, clip[2]), min(self.north, clip[3])
        return None if west >= east or south >= north else (west, south, east, north)

    def data_resolution(self, native: float, latitude: float) -> float:
        """Pixel size to read data at for this view: the coarsest power-of-two multiple of ``native`` whose
        pixels stay no larger than about 1.2 screen pixels at ``latitude``."""
        ground_px = self.metres_per_px * math.cos(math.radians(latitude))
        return native * 2 ** max(0, math.ceil(math.log2(max(ground_px / native, 1e-9)) - 0.25))

    def overlay_grid(self, clip: tuple[float, float, float, float]) -> Grid | None:
        """Web Mercator grid of the part of the view inside ``clip`` (lon/lat bounds), at screen resolution."""
        inside = self.clipped(clip)
        if inside is None:
            return None
        _, bottom, _, top = transform_bounds(inside, LONLAT, WEB_MERCATOR)
        left, right = inside[0] * _MERCATOR_M_PER_DEG, inside[2] * _MERCATOR_M_PER_DEG  # past 180° too
        px = self.metres_per_px
        width, height = math.ceil((right - left) / px), math.ceil((top - bottom) / px)
        scale = max(1.0, max(width, height) / MAX_OVERLAY_PX)
        px *= scale
        width, height = max(1, math.ceil((right - left) / px)), max(1, math.ceil((top - bottom) / px))
        return Grid(Affine(px, 0, left, 0, -px, top), width, height, WEB_MERCATOR)


class Resampler:
    """Nearest-neighbour resampling from one grid to another, planned once and applied many times."""

    def __init__(self, src: Grid, dst: Grid) -> None:
        self.src, self.dst = src, dst
        if src.height * src.width >= 2**31 - 1:
            raise ValueError("source grid too large to index")
        index = np.arange(src.height * src.width, dtype=np.int32).reshape(src.shape)
        self.index = np.full(dst.shape, -1, dtype=np.int32)
        reproject(
            index, self.index, src_transform=src.transform, src_crs=src.crs, dst_transform=dst.transform,
            dst_crs=dst.crs, src_nodata=-1, dst_nodata=-1, resampling=Resampling.nearest,
        )  # fmt: skip
        self.outside = self.index < 0
        # planned once too: the gather indices with outside pixels pointing anywhere valid, fixed up after
        self._take = np.where(self.outside, 0, self.index)
        self._any_outside = bool(self.outside.any())

    def __call__(self, array: np.ndarray, fill: float | int = 0) -> np.ndarray:
        """``array`` shaped like the source grid (plus trailing axes) on the destination grid."""
        flat = array.reshape(self.src.height * self.src.width, *array.shape[2:])
        out = flat[self._take]
        if self._any_outside:
            out[self.outside] = fill
        return out
