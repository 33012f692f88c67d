"""Many polygons coloured by one number each, drawn as one image: a raster of field ids, coloured per field.

A choropleth of 10,000 fields as an ipyleaflet GeoJSON layer sends every vertex to the browser again for each new
colouring (5.9 MB, 2.5 CPU s in the kernel for 10,000 nine-vertex fields, README "Fields and points"); rasterising the
field ids once on the map's Web Mercator grid (0.6 CPU s) and colouring the ids per product (a palette lookup and a
PNG, 0.12 CPU s and 0.5 MB) keeps the map responsive. Which field a click falls in is answered from the polygons
(``FieldRaster.field_at``), not from the pixels, so no field is too small to click.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .colors import continuous_palette, hex_to_rgba
from .overlay import Overlay
from .png import rgba_data_url

if TYPE_CHECKING:
    import geopandas as gpd

#: Width of the field-id raster in pixels: about a screen; fields narrower than a pixel at the layer's full extent
#: still colour the pixel they touch (``all_touched``).
FIELD_RASTER_PX = 1024
#: The Web Mercator world's width in metres: 256 px at zoom 0.
_WORLD_M = 40_075_016.686


@dataclass(frozen=True, eq=False)
class FieldRaster:
    """Field ids (1 + position in the layer, 0 outside every field) on a Web Mercator grid, and its corners."""

    ids: np.ndarray
    bounds: tuple[tuple[float, float], tuple[float, float]]
    lonlat: Any  # the layer's geometries in degrees (a GeoSeries), for clicks and flying to a field
    tree: Any  # shapely STRtree over ``lonlat``

    def field_at(self, lon: float, lat: float) -> int | None:
        """Position of the field holding the point (the first one if fields overlap), or None."""
        import shapely

        hits = self.tree.query(shapely.Point(lon, lat), predicate="intersects")
        return int(np.min(hits)) if len(hits) else None

    def center_zoom(self, position: int | None = None, pixels: int = 400) -> tuple[tuple[float, float], int]:
        """((lat, lon), zoom) showing one field (position in the layer), or the whole layer, about ``pixels``
        across: set on the map at once (``Map.fit_bounds`` waits for the browser to say how large the map is)."""
        from pyproj import Transformer

        shape = self.lonlat.iloc[position] if position is not None else None
        west, south, east, north = shape.bounds if shape is not None else self.lonlat.total_bounds
        x, y = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform([west, east], [south, north])
        span = max(abs(x[1] - x[0]), abs(y[1] - y[0]), 1.0)
        zoom = int(np.clip(np.floor(np.log2(_WORLD_M * pixels / (256 * span))), 2, 18))
        return ((south + north) / 2, (west + east) / 2), zoom


def field_raster(table: gpd.GeoDataFrame, width: int = FIELD_RASTER_PX) -> FieldRaster:
    """Rasterise a layer's fields (any CRS) to ids on a Web Mercator grid ``width`` pixels wide."""
    import shapely
    from rasterio.features import rasterize
    from rasterio.transform import from_bounds

    lonlat = table.geometry.to_crs("EPSG:4326")
    mercator = lonlat.to_crs("EPSG:3857")
    west, south, east, north = mercator.total_bounds
    span_x, span_y = max(east - west, 1e-6), max(north - south, 1e-6)
    height = max(1, min(4 * width, round(width * span_y / span_x)))
    transform = from_bounds(west, south, west + span_x, south + span_y, width, height)
    # drawn in reverse so the first of overlapping fields is on top, as ``field_at`` answers
    shapes = [(g, i + 1) for i, g in reversed(list(enumerate(mercator.to_numpy())))]
    ids = rasterize(shapes, out_shape=(height, width), transform=transform, fill=0, all_touched=True, dtype="int32")
    lw, ls, le, ln = lonlat.total_bounds
    return FieldRaster(ids, ((ls, lw), (ln, le)), lonlat, shapely.STRtree(lonlat.to_numpy()))


def field_colors(values: np.ndarray, categorical: bool, colors: Sequence[str] = (), cmap: str = "viridis",
                 vmin: float = 0.0, vmax: float = 1.0) -> np.ndarray:  # fmt: skip
    """(n + 1, 4) RGBA per field id (row 0: outside every field, transparent); a field without a value (NaN or a
    negative class) is transparent too, so no data is never drawn as a value."""
    rgba = np.zeros((len(values) + 1, 4), dtype=np.uint8)
    if categorical:
        labels = np.asarray(values, dtype=np.int64)
        table = np.array([hex_to_rgba(c) for c in colors], dtype=np.uint8).reshape(-1, 4)
        ok = labels >= 0
        rgba[1:][ok] = table[labels[ok] % len(table)]
        return rgba
    values = np.asarray(values, dtype=np.float64)
    palette = continuous_palette(cmap)
    ok = np.isfinite(values)
    scaled = (np.clip(values[ok], vmin, vmax) - vmin) / max(vmax - vmin, 1e-12)
    rgba[1:][ok] = palette[np.round(scaled * (len(palette) - 1)).astype(np.int64)]
    return rgba


def field_overlay(raster: FieldRaster, colors: np.ndarray) -> Overlay:
    """The fields coloured by ``colors`` (from ``field_colors``) as one crisp image overlay."""
    return Overlay(rgba_data_url(colors[raster.ids]), raster.bounds, crisp=True)
