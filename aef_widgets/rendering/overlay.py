"""Arrays on a source grid to PNG overlays on the map view.

Every renderer takes values on the source grid and a ``Resampler`` to the view's Web Mercator grid, colours the
source pixels first (cheap, and exact for categories), then resamples the colour indices.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..core.grid import Grid
from .colors import continuous_palette, hex_to_rgba
from .png import indexed_data_url, rgba_data_url
from .view import Resampler

LeafletBounds = tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class Overlay:
    """An image for an ``ImageOverlay``: a PNG data URL and its ((south, west), (north, east)) corners."""

    url: str
    bounds: LeafletBounds
    #: Categorical images must not be smoothed when the browser scales them.
    crisp: bool = False


@functools.lru_cache(maxsize=64)
def leaflet_bounds(grid: Grid) -> LeafletBounds:
    """Corners of a grid for Leaflet; remembered, since every redraw of a view asks again (a pyproj call)."""
    west, south, east, north = grid.lonlat_bounds()
    return ((south, west), (north, east))


def rgb_overlay(rgb: np.ndarray, resampler: Resampler) -> Overlay:
    """(rows, cols, 3) floats in 0..1 (NaN = no data) as a true-colour overlay."""
    valid = np.isfinite(rgb).all(axis=2)
    rgba = np.zeros((*rgb.shape[:2], 4), dtype=np.uint8)
    rgba[..., :3] = np.round(np.nan_to_num(rgb) * 255)
    rgba[..., 3] = np.where(valid, 255, 0)
    return Overlay(rgba_data_url(resampler(rgba)), leaflet_bounds(resampler.dst))


def continuous_overlay(values: np.ndarray, vmin: float, vmax: float, cmap: str, resampler: Resampler) -> Overlay:
    """Float values (NaN = no data) coloured from ``vmin`` to ``vmax`` with a matplotlib colormap."""
    palette = np.zeros((256, 4), dtype=np.uint8)
    palette[1:] = continuous_palette(cmap, 255)
    with np.errstate(invalid="ignore"):
        scaled = (np.asarray(values, dtype=np.float32) - vmin) / (vmax - vmin)
        index = np.where(np.isfinite(scaled), 1 + np.round(np.clip(scaled, 0, 1) * 254), 0).astype(np.uint8)
    # uncompressed: a continuous map barely compresses (-12% at zlib level 1) but took 10-20 ms to try, a third of
    # a click's budget; categorical and mask images below compress 10-20x in 1-2 ms, so they keep level 1
    url = indexed_data_url(resampler(index), palette, compress_level=0)
    return Overlay(url, leaflet_bounds(resampler.dst))


def categorical_overlay(labels: np.ndarray, colors: Sequence[str], resampler: Resampler) -> Overlay:
    """Integer classes 0..n-1 (negative = no class) in the given hex colours, never smoothed."""
    if len(colors) > 255:
        raise ValueError("at most 255 classes can be drawn")
    palette = np.zeros((len(colors) + 1, 4), dtype=np.uint8)
    palette[1:] = [hex_to_rgba(c) for c in colors]
    index = np.where(labels >= 0, labels + 1, 0).astype(np.uint8)
    return Overlay(indexed_data_url(resampler(index), palette), leaflet_bounds(resampler.dst), crisp=True)


def mask_overlay(mask: np.ndarray, color: str, resampler: Resampler) -> Overlay:
    """True pixels in one colour, the rest transparent."""
    palette = np.array([(0, 0, 0, 0), hex_to_rgba(color)], dtype=np.uint8)
    return Overlay(
        indexed_data_url(resampler(mask.astype(np.uint8)), palette), leaflet_bounds(resampler.dst), crisp=True
    )
