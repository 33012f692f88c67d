"""Polygons as GeoJSON files: WGS84 (RFC 7946) or the source's CRS, named in the file."""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path
from typing import Protocol

from rasterio.crs import CRS

from ..core.grid import LONLAT


class GeoJSONLayer(Protocol):
    def geojson(self, crs: CRS | str = ...) -> dict: ...


def write_geojson(path: str | PathLike, layer: GeoJSONLayer, crs: CRS | str = LONLAT) -> Path:
    """Write ``layer`` (a ``VectorLayer``) as a GeoJSON FeatureCollection in ``crs``; return the path."""
    path = Path(path)
    path.write_text(json.dumps(layer.geojson(crs)) + "\n")
    return path
