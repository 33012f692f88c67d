"""Labelled points on disk: GeoJSON to save and load, CSV to load.

A label is a point in lon/lat with a target: a class (a name or an id) for classification, or a number for
regression. GeoJSON files hold one Point feature per label with the properties ``class`` (or ``value``), ``year``,
``lon``, ``lat`` and, when known, the 64-vector as ``A00``..``A63`` (the band names, so the file is also a table of
sampled pixels as Earth Engine writes them). Every other property of a loaded file is kept and written back, so a
round trip loses nothing. CSV files need columns ``lon``, ``lat`` and ``class`` (or ``value``); ``year`` and any
other column are kept as well.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import Transformer

from ..core.bands import BAND_NAMES, N_BANDS
from ..core.errors import LabelsError, NoDataError
from ..core.grid import LONLAT, Footprint

TARGETS = ("class", "value")
_LON = ("lon", "longitude", "lng", "x")
_LAT = ("lat", "latitude", "y")


@dataclass(frozen=True)
class LabelPoint:
    """One labelled point: where, what (a class or a value), for which year, its vector and any other properties."""

    lon: float
    lat: float
    target: Any
    year: int | None = None
    vector: tuple[float, ...] | None = None
    properties: Mapping[str, Any] = field(default_factory=dict, hash=False)


def label_features(points: Iterable[LabelPoint], target: str = "class") -> dict:
    """A GeoJSON FeatureCollection of the points (see the module docstring)."""
    _check_target(target)
    features = []
    for p in points:
        props: dict[str, Any] = dict(p.properties)
        props.update({target: _plain(p.target), "year": p.year, "lon": float(p.lon), "lat": float(p.lat)})
        if p.vector is not None:
            props.update(zip(BAND_NAMES, map(float, p.vector)))
        geometry = {"type": "Point", "coordinates": [float(p.lon), float(p.lat)]}
        features.append({"type": "Feature", "geometry": geometry, "properties": props})
    return {"type": "FeatureCollection", "features": features}


def save_labels(path: str | PathLike, points: Iterable[LabelPoint], target: str = "class") -> Path:
    """Write the points as a GeoJSON file; returns its path."""
    path = Path(path)
    path.write_text(json.dumps(label_features(points, target), indent=1) + "\n")
    return path


def load_labels(path: str | PathLike, target: str = "class") -> list[LabelPoint]:
    """Labelled points from a GeoJSON (``.geojson``, ``.json``) or CSV (``.csv``) file.

    ``target`` is the property holding what was labelled: ``class`` (kept as in the file, a name or an id) or
    ``value`` (a number, for regression).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise LabelsError(f"cannot read labels from {path}: {e.strerror or e}") from e
    return labels_from_bytes(data, path.name, target)


def labels_from_bytes(data: bytes, name: str, target: str = "class") -> list[LabelPoint]:
    """Labelled points from the content of a file called ``name`` (an upload): CSV if it ends in ``.csv``, else
    GeoJSON. The content is parsed as it is; nothing is opened by name."""
    _check_target(target)
    name = Path(str(name)).name or "the upload"
    try:
        text = bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise LabelsError(f"{name} is not a text file of labels") from e
    if name.lower().endswith(".csv"):
        return _from_csv(text, target, name)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise LabelsError(f"{name} is not valid GeoJSON: {e}") from e
    return labels_from_geojson(obj, target, name)


def load_values(path: str | PathLike) -> list[LabelPoint]:
    """Points with a numeric ``value`` column or property (for regression), from GeoJSON or CSV."""
    return load_labels(path, target="value")


def labels_from_geojson(obj: Any, target: str = "class", name: str = "the GeoJSON") -> list[LabelPoint]:
    """Labelled points from a GeoJSON FeatureCollection (dict) of Point features."""
    if not isinstance(obj, Mapping) or obj.get("type") != "FeatureCollection":
        raise LabelsError(f"{name} is not a GeoJSON FeatureCollection")
    points = []
    for i, feature in enumerate(obj.get("features") or []):
        geometry = (feature or {}).get("geometry") or {}
        if geometry.get("type") != "Point":
            raise LabelsError(f"feature {i} of {name} is a {geometry.get('type') or 'feature without geometry'}, "
                              "not a Point; labels are points")  # fmt: skip
        props = dict(feature.get("properties") or {})
        coords = geometry.get("coordinates") or []
        if len(coords) < 2:
            raise LabelsError(f"feature {i} of {name} has no coordinates")
        props.pop("lon", None), props.pop("lat", None)  # the geometry is where the label is
        points.append(_point(coords[0], coords[1], props, target, f"feature {i} of {name}"))
    return points


def _from_csv(text: str, target: str, name: str) -> list[LabelPoint]:
    reader = csv.DictReader(text.splitlines())
    columns = {c.strip().lower(): c for c in reader.fieldnames or []}
    lon = next((columns[c] for c in _LON if c in columns), None)
    lat = next((columns[c] for c in _LAT if c in columns), None)
    if lon is None or lat is None or target not in columns:
        raise LabelsError(f"{name} needs columns lon, lat and {target}; it has {', '.join(columns) or 'none'}")
    points = []
    for line, row in enumerate(reader, start=2):
        props = {k: v for k, v in row.items() if k not in (lon, lat)}
        props[target] = props.pop(columns[target])
        if "year" in columns:
            props["year"] = props.pop(columns["year"])
        points.append(_point(row[lon], row[lat], props, target, f"line {line} of {name}"))
    return points


def _point(lon: Any, lat: Any, props: dict, target: str, where: str) -> LabelPoint:
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        raise LabelsError(f"{where}: lon and lat must be numbers, got {lon!r}, {lat!r}") from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise LabelsError(f"{where}: ({lon}, {lat}) is not a lon/lat position in degrees")
    if props.get(target) in (None, ""):
        raise LabelsError(f"{where} has no {target}")
    value = props.pop(target)
    if target == "value":
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise LabelsError(f"{where}: the value must be a number, got {value!r}") from None
        if not math.isfinite(value):
            raise LabelsError(f"{where}: the value must be finite, got {value}")
    year = props.pop("year", None)
    try:
        year = None if year in (None, "") else int(year)
    except (TypeError, ValueError):
        raise LabelsError(f"{where}: the year must be a whole number, got {year!r}") from None
    vector = None
    if all(b in props for b in BAND_NAMES):
        try:
            vector = tuple(float(props.pop(b)) for b in BAND_NAMES)
        except (TypeError, ValueError):
            raise LabelsError(f"{where}: the bands A00..A63 must be numbers") from None
    return LabelPoint(lon, lat, value, year, vector, props)


def _plain(value: Any) -> Any:
    """numpy scalars as the Python numbers JSON knows."""
    return value.item() if isinstance(value, np.generic) else value


def _check_target(target: str) -> None:
    if target not in TARGETS:
        raise ValueError(f"target must be one of {', '.join(TARGETS)}, got {target!r}")


def outside(points: Sequence[LabelPoint], footprint: Footprint) -> np.ndarray:
    """Boolean (n,): True for points outside the footprint's bounds."""
    if not points:
        return np.zeros(0, dtype=bool)
    to_crs = Transformer.from_crs(LONLAT, footprint.crs, always_xy=True)
    x, y = to_crs.transform([p.lon for p in points], [p.lat for p in points])
    left, bottom, right, top = footprint.bounds
    x, y = np.asarray(x), np.asarray(y)
    return ~((x >= left) & (x <= right) & (y >= bottom) & (y <= top))


def require_inside(points: Sequence[LabelPoint], footprint: Footprint, source_name: str = "the data") -> None:
    """A NoDataError that says how many labels lie outside the data (and where the data are), if any do."""
    away = outside(points, footprint)
    if away.any():
        west, south, east, north = footprint.lonlat_bounds()
        raise NoDataError(
            f"{int(away.sum())} of {len(points)} labels lie outside {source_name} "
            f"(lon {west:.3f} to {east:.3f}, lat {south:.3f} to {north:.3f}); are they for another place?"
        )


def vectors_of(points: Sequence[LabelPoint]) -> np.ndarray:
    """(n, 64) float32 stored vectors of the points; NaN rows for points saved without one."""
    out = np.full((len(points), N_BANDS), np.nan, dtype=np.float32)
    for i, p in enumerate(points):
        if p.vector is not None:
            out[i] = p.vector
    return out
