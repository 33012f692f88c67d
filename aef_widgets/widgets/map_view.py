"""The map the widgets draw on: making one without Earth Engine, and reading what it shows."""

from __future__ import annotations

import math

import ipyleaflet

from ..rendering.view import MapView
from ..sources.base import EmbeddingSource

#: Web Mercator metres per pixel at zoom 0 (256 px tiles).
_M_PER_PX_Z0 = 2 * math.pi * 6378137 / 256
_HALF_WORLD = math.pi * 6378137
#: Assumed map size before the browser reports it (and in notebooks run without a browser).
DEFAULT_SIZE_PX = (1024, 768)


def make_map(source: EmbeddingSource | None = None, **kwargs) -> ipyleaflet.Map:
    """A geemap Map centred on the source, with only the controls the widgets use.

    Earth Engine is initialised only if it already is: a map must never ask for credentials.
    """
    import geemap  # imported here: it takes seconds and is only needed once there is a map

    settings = dict(
        ee_initialize=_ee_ready(),
        search_ctrl=False,
        fullscreen_ctrl=False,
        draw_ctrl=False,
        measure_ctrl=False,
        toolbar_ctrl=False,
        scale_ctrl=True,
        scroll_wheel_zoom=True,
        # panning past 180 degrees jumps back to the same place in the main copy of the world, where the layers are
        world_copy_jump=True,
    )
    if source is not None:
        lon, lat = source.footprint.center_lonlat
        settings.update(center=(lat, lon), zoom=_zoom_to_fit(source))
    settings.update(kwargs)
    m = geemap.Map(**settings)
    corner = getattr(m, "top_right_control", None)
    if corner is not None and corner in m.controls:
        m.remove(corner)  # geemap's empty toolbar holder
    return m


def view_of(m: ipyleaflet.Map) -> MapView:
    """What the map shows: its reported bounds and size, or, before it reports, its centre and zoom."""
    if m.bounds and m.pixel_bounds:
        (south, west), (north, east) = m.bounds
        (x0, y0), (x1, y1) = m.pixel_bounds
        return MapView(west, south, east, north, max(1, round(x1 - x0)), max(1, round(y1 - y0)))
    width, height = DEFAULT_SIZE_PX
    lat, lon = m.center
    m_per_px = _M_PER_PX_Z0 / 2**m.zoom
    x = math.radians(lon) * 6378137
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * 6378137
    half_w, half_h = width * m_per_px / 2, height * m_per_px / 2
    west, east = _x_to_lon(x - half_w), _x_to_lon(x + half_w)
    south, north = _y_to_lat(y - half_h), _y_to_lat(y + half_h)
    return MapView(west, south, east, north, width, height)


def _zoom_to_fit(source: EmbeddingSource) -> int:
    west, south, east, north = source.footprint.lonlat_bounds()
    span = max(east - west, (north - south) * 1.3, 1e-6)
    return int(max(1, min(18, math.floor(math.log2(360 / span * DEFAULT_SIZE_PX[0] / 256)))))


def _x_to_lon(x: float) -> float:
    return math.degrees(max(-_HALF_WORLD, min(_HALF_WORLD, x)) / 6378137)


def _y_to_lat(y: float) -> float:
    y = max(-_HALF_WORLD, min(_HALF_WORLD, y))
    return math.degrees(2 * math.atan(math.exp(y / 6378137)) - math.pi / 2)


def _ee_ready() -> bool:
    try:
        import ee

        return bool(ee.data.is_initialized())
    except Exception:  # an unusable ee install is the same as no Earth Engine here
        return False
