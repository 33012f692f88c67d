"""GeoJSON text to polygons, safely: content is parsed as content and never opened as a path.

Uploads in an app are untrusted: text that looks like a file name is still only text here, a size limit is checked
before any parsing, and JSON nested too deeply to be a geometry is refused instead of exhausting Python's stack.
Reading a file is a separate, explicit call (``read_geojson_file``), for code, never for what a visitor typed.
"""

from __future__ import annotations

import codecs
import json
import os
import stat
from collections.abc import Mapping, Sequence
from os import PathLike
from typing import Any

from .errors import AOIError

Ring = tuple[tuple[float, float], ...]
Polygon = tuple[Ring, ...]
#: Largest GeoJSON accepted, in bytes (characters for text): a detailed country outline is a few MB.
MAX_GEOJSON_BYTES = 10 * 2**20
#: Deepest nesting of collections and features accepted (a FeatureCollection of Features is 3 levels).
_MAX_DEPTH = 16
#: ``crs`` names that mean longitude/latitude in degrees, in GeoJSON's (lon, lat) order.
_LONLAT_NAMES = {
    "urn:ogc:def:crs:ogc:1.3:crs84", "urn:ogc:def:crs:ogc::crs84", "crs84", "ogc:crs84",
    "epsg:4326", "urn:ogc:def:crs:epsg::4326", "urn:ogc:def:crs:epsg:6.6:4326", "wgs84",
    "http://www.opengis.net/def/crs/ogc/1.3/crs84", "http://www.opengis.net/def/crs/epsg/0/4326",
}  # fmt: skip


def parse_geojson(content: str | bytes | bytearray | memoryview) -> Any:
    """The JSON value of GeoJSON text or bytes (UTF-8, with or without a byte-order mark), or an ``AOIError``."""
    if isinstance(content, (bytes, bytearray, memoryview)):
        size = memoryview(content).nbytes
        if size > MAX_GEOJSON_BYTES:
            raise AOIError(_too_large(size))
        raw = bytes(content)
        if raw.startswith(codecs.BOM_UTF8):  # Windows editors write one; it is not part of the JSON
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise AOIError("that is not text GeoJSON: GeoJSON is UTF-8 text, and this holds other bytes") from None
    elif isinstance(content, str):
        if len(content) > MAX_GEOJSON_BYTES:
            raise AOIError(_too_large(len(content)))
        text = content.removeprefix("\ufeff")
    else:
        raise TypeError(f"GeoJSON content must be text or bytes, not {type(content).__name__}")
    text = text.strip()
    if not text:
        raise AOIError("the GeoJSON is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        hint = "" if text[0] in "{[" else " (GeoJSON text starts with '{')"
        raise AOIError(f"not valid GeoJSON: {e.msg} at line {e.lineno}, column {e.colno}{hint}") from None
    except RecursionError:
        raise AOIError("not usable GeoJSON: it is nested far too deeply to be a geometry") from None


def read_geojson_file(path: str | PathLike) -> Any:
    """The JSON value of a GeoJSON file named by code (never by a visitor): a regular file within the size limit."""
    name = os.fspath(path)
    try:
        info = os.stat(name)
    except OSError as e:
        raise AOIError(f"cannot read GeoJSON file {name}: {e.strerror}") from None
    if not stat.S_ISREG(info.st_mode):  # a FIFO or a device would block or never end
        raise AOIError(f"cannot read GeoJSON file {name}: it is not a regular file")
    if info.st_size > MAX_GEOJSON_BYTES:
        raise AOIError(f"cannot read GeoJSON file {name}: {_too_large(info.st_size)}")
    try:
        with open(name, "rb") as f:
            data = f.read(MAX_GEOJSON_BYTES + 1)
    except OSError as e:
        raise AOIError(f"cannot read GeoJSON file {name}: {e.strerror}") from None
    return parse_geojson(data)


def polygons_of(obj: Any, depth: int = 0) -> list[Polygon]:
    """Every polygon of a GeoJSON Geometry, Feature or FeatureCollection, as closed rings of (lon, lat)."""
    if not isinstance(obj, Mapping):
        kind = "a list" if isinstance(obj, list) else f"a {type(obj).__name__}"
        raise AOIError(f'GeoJSON must be an object with a \'type\' (like {{"type": "Polygon", ...}}), not {kind}')
    if depth > _MAX_DEPTH:
        raise AOIError("not usable GeoJSON: collections are nested too deeply")
    _check_crs(obj.get("crs"))
    kind = obj.get("type")
    if kind == "FeatureCollection":
        return [p for feature in _members(obj, "features") for p in polygons_of(feature, depth + 1)]
    if kind == "Feature":
        geometry = obj.get("geometry")
        return [] if geometry is None else polygons_of(geometry, depth + 1)
    if kind == "GeometryCollection":
        return [p for g in _members(obj, "geometries") for p in polygons_of(g, depth + 1)]
    if kind == "Polygon":
        return [tuple(_closed_ring(r) for r in _members(obj, "coordinates"))]
    if kind == "MultiPolygon":
        return [tuple(_closed_ring(r) for r in _sequence(poly)) for poly in _members(obj, "coordinates")]
    if kind in ("Point", "MultiPoint", "LineString", "MultiLineString"):
        return []
    if kind is None:
        raise AOIError('GeoJSON must be an object with a \'type\' (like {"type": "Polygon", ...})')
    raise AOIError(f"unsupported GeoJSON type {str(kind)[:40]!r}")


def _members(obj: Mapping, key: str) -> Sequence:
    return _sequence(obj.get(key, []))


def _sequence(value: Any) -> Sequence:
    if not isinstance(value, (list, tuple)):
        raise AOIError("polygon coordinates must be lists of (lon, lat) pairs")
    return value


def _closed_ring(coords: Any) -> Ring:
    try:
        ring = tuple((float(p[0]), float(p[1])) for p in _sequence(coords))
    except (TypeError, ValueError, IndexError, KeyError):
        raise AOIError("polygon coordinates must be (lon, lat) pairs") from None
    if ring and ring[0] != ring[-1]:
        ring = (*ring, ring[0])
    return ring


def _check_crs(crs: Any) -> None:
    """RFC 7946 GeoJSON is always lon/lat; older files may declare another CRS, which must not be ignored."""
    if crs is None:
        return
    name = crs.get("properties", {}).get("name") if isinstance(crs, Mapping) else None
    if isinstance(name, str) and name.strip().lower() in _LONLAT_NAMES:
        return
    said = f"'{name[:60]}'" if isinstance(name, str) else "a CRS this reader cannot interpret"
    raise AOIError(
        f"the GeoJSON declares its coordinates in {said} (its 'crs' member); AOIs must be longitude/latitude "
        "(EPSG:4326, as RFC 7946 GeoJSON always is): reproject it first, e.g. ogr2ogr -t_srs EPSG:4326 out.geojson "
        "in.geojson"
    )


def _too_large(size: int) -> str:
    return f"the GeoJSON is {size / 2**20:.1f} MB; the limit is {MAX_GEOJSON_BYTES / 2**20:.0f} MB (simplify it first)"
