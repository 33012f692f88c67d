"""Labels meet the data: the valid pixels a drawn polygon labels, and a labels file written with each label's
64-vector of the year shown. The class map's own training reads are ``base.training_data``.

Both read the source, so they run in the background (the classify panel submits them); the edits of the classes
and labels themselves are pure functions of the panel (``widgets/label_edits.py``). On disk a label carries its
class *name* and colour, so a file means the same thing in any session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from os import PathLike
from pathlib import Path

import numpy as np
from pyproj import Transformer

from ..analysis.label_pixels import polygon_pixels
from ..core.aoi import AOI
from ..core.errors import NoDataError
from ..core.grid import LONLAT
from ..sources.base import EmbeddingSource
from ..sources.labels import LabelPoint, save_labels


def polygon_points(
    source: EmbeddingSource, polygon: AOI, year: int, n: int, seed: int = 0
) -> list[tuple[float, float]]:
    """(lon, lat) of the centres of up to ``n`` random valid pixels inside the polygon (``polygon_pixels``)."""
    field = source.read(polygon, year)
    rows, cols, _ = polygon_pixels(field, polygon.mask(field.grid), n, seed)
    if len(rows) == 0:
        raise NoDataError("the polygon holds no pixel with data; draw it where the map has embeddings")
    x, y = field.grid.transform @ (cols + 0.5, rows + 0.5)
    lon, lat = Transformer.from_crs(field.grid.crs, LONLAT, always_xy=True).transform(x, y)
    return list(zip(np.atleast_1d(lon).tolist(), np.atleast_1d(lat).tolist()))


def to_disk(labels: Sequence[LabelPoint], classes: Sequence[tuple[str, str]], vectors: np.ndarray | None = None):
    """Labels as saved: the class name as ``class``, its colour as ``color``, the vector when known."""
    out = []
    for i, p in enumerate(labels):
        name, color = classes[p.target]
        vector = p.vector
        if vectors is not None and np.isfinite(vectors[i]).all():
            vector = tuple(float(v) for v in vectors[i])
        out.append(replace(p, target=name, vector=vector, properties={**p.properties, "color": color}))
    return out


def write_labels(
    path: str | PathLike, labels: Sequence[LabelPoint], classes: Sequence[tuple[str, str]],
    source: EmbeddingSource, year: int,
) -> Path:  # fmt: skip
    """Write the labels as GeoJSON (class name and colour, year, lon/lat, the 64-vector of ``year`` where it has
    data: one sample request); returns the path written."""
    vectors = source.sample([(p.lon, p.lat) for p in labels], year) if len(labels) else None
    return save_labels(path, to_disk(labels, classes, vectors))
