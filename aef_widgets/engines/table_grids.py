"""Where the rows of a table are measured: each polygon or point on the pixel lattice its source would read it on.

A source reads an AOI on a grid of its choosing: a GeoTIFF source in the CRS of its first file, the release and
Earth Engine in the UTM zone of the AOI's centre. Rows are grouped by that lattice (its CRS, pixel size and
origin), probed once per one-degree cell of the rows' representative points (UTM zones' edges lie on whole
degrees, so a cell never straddles one), and each group is measured on one grid of that lattice spanning its rows.
A polygon across two zones is thus measured in the zone of its representative point, the other zone's pixels
warped onto that grid by nearest neighbour, as every read of the package does. The grid may be large: only the
chunks of it that rows touch are ever read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from affine import Affine

from ..core.aoi import AOI
from ..core.errors import AOIError, NoDataError, TooLargeError, TooManyFilesError
from ..core.grid import Grid
from ..sources.base import EmbeddingSource

#: Degrees added around a probe box, so a point or a sub-pixel polygon still makes an AOI with an area.
_PAD_DEG = 1e-4


@dataclass(frozen=True)
class Lattice:
    """A pixel lattice of a source: its CRS, pixel size and the origin of one pixel corner."""

    grid: Grid  # a grid on the lattice (the probe's), from which every grid of the group is cut

    def key(self) -> tuple:
        t = self.grid.transform
        return (self.grid.crs.to_wkt(), round(t.a, 9), round(t.c % t.a, 6), round(t.f % t.a, 6))

    def covering(self, bounds: tuple[float, float, float, float], source: EmbeddingSource) -> Grid | None:
        """The grid of this lattice covering ``bounds`` (in the lattice's CRS), clipped to the source's footprint
        when that is in the same CRS; None when nothing of it is left."""
        left, bottom, right, top = bounds
        if source.footprint.crs == self.grid.crs:
            f_left, f_bottom, f_right, f_top = source.footprint.bounds
            left, bottom, right, top = max(left, f_left), max(bottom, f_bottom), min(right, f_right), min(top, f_top)
            if left >= right or bottom >= top:
                return None
        t = self.grid.transform
        res, x0, y0 = t.a, t.c, t.f
        col0, col1 = math.floor((left - x0) / res), math.floor((right - x0) / res) + 1
        row0, row1 = math.floor((y0 - top) / res), math.floor((y0 - bottom) / res) + 1
        transform = Affine(res, 0, x0 + col0 * res, 0, -res, y0 - row0 * res)
        return Grid(transform, col1 - col0, row1 - row0, self.grid.crs)


def lattice_groups(
    source: EmbeddingSource, lonlat: np.ndarray, lonlat_bounds: np.ndarray
) -> list[tuple[Lattice, np.ndarray]]:
    """Rows grouped by the lattice the source reads them on: ``(lattice, row indexes)``; rows in no group lie
    where the source has no data. ``lonlat`` is (n, 2) representative points, ``lonlat_bounds`` (n, 4)."""
    cells = np.floor(lonlat).astype(np.int64)
    _, inverse = np.unique(cells, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(inverse, kind="stable")
    starts = np.flatnonzero(np.diff(inverse[order], prepend=-1))
    groups: dict[tuple, tuple[Lattice, list[np.ndarray]]] = {}
    for rows in np.split(order, starts[1:]) if len(order) else []:
        box = (*lonlat_bounds[rows, :2].min(axis=0), *lonlat_bounds[rows, 2:].max(axis=0))
        lattice = _probe(source, lonlat[rows[0]], tuple(map(float, box)))
        if lattice is not None:
            groups.setdefault(lattice.key(), (lattice, []))[1].append(rows)
    return [(lattice, np.sort(np.concatenate(parts))) for lattice, parts in groups.values()]


def _probe(source: EmbeddingSource, point: np.ndarray, box: tuple[float, float, float, float]) -> Lattice | None:
    """The lattice of a read of ``box`` (lon/lat), or, where that read would be refused (too many files, too wide),
    of a read at ``point``."""
    lon, lat = float(point[0]), float(point[1])
    west, south, east, north = box
    tries = [(west - _PAD_DEG, south - _PAD_DEG, east + _PAD_DEG, north + _PAD_DEG),
             (lon - _PAD_DEG, lat - _PAD_DEG, lon + _PAD_DEG, lat + _PAD_DEG)]  # fmt: skip
    for bounds in tries:
        try:
            return Lattice(source.grid(AOI.from_bounds(*bounds)))
        except (TooManyFilesError, TooLargeError, AOIError):  # too wide for one read: the point decides
            continue
        except NoDataError:  # the source has nothing there
            return None
    return None
