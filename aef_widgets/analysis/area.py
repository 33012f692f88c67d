"""Areas from pixel counts, using the real size of each pixel in its CRS.

Projected grids (UTM for AEF) have one pixel size everywhere, in the CRS's linear unit. Geographic grids (lon/lat
exports) have pixels that shrink towards the poles, so each row gets its geodesic area on the WGS84 ellipsoid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pyproj import Geod

from ..core.grid import Grid

M2_PER_HA = 10_000.0
_GEOD = Geod(ellps="WGS84")


def pixel_area_m2(grid: Grid) -> np.ndarray:
    """Area of each pixel in m², shaped (rows, 1) so it broadcasts over a (rows, cols) map."""
    t = grid.transform
    if grid.crs.is_geographic:
        lon0 = t.c
        lon1 = t.c + t.a
        tops = t.f + t.e * np.arange(grid.height)
        areas = [
            abs(_GEOD.polygon_area_perimeter([lon0, lon1, lon1, lon0], [lat, lat, lat + t.e, lat + t.e])[0])
            for lat in tops
        ]
        return np.asarray(areas, dtype=np.float64)[:, None]
    _, metres_per_unit = grid.crs.linear_units_factor
    area = abs(t.a * t.e - t.b * t.d) * metres_per_unit**2
    return np.full((grid.height, 1), area, dtype=np.float64)


def area_ha(mask: np.ndarray, grid: Grid) -> float:
    """Area in hectares of the True pixels of a (rows, cols) mask."""
    per_row = np.count_nonzero(mask, axis=1)
    return float((per_row * pixel_area_m2(grid)[:, 0]).sum() / M2_PER_HA)


@dataclass(frozen=True)
class ClassAreas:
    """Area of each class of a label map, in hectares and percent of the classified area."""

    classes: tuple[int, ...]
    pixels: tuple[int, ...]
    hectares: tuple[float, ...]

    @property
    def total_ha(self) -> float:
        return float(sum(self.hectares))

    @property
    def percent(self) -> tuple[float, ...]:
        total = self.total_ha
        return tuple(100.0 * h / total if total else 0.0 for h in self.hectares)

    def rows(self) -> list[dict]:
        """One dict per class: class, pixels, hectares, percent."""
        return [
            {"class": c, "pixels": p, "hectares": h, "percent": pc}
            for c, p, h, pc in zip(self.classes, self.pixels, self.hectares, self.percent)
        ]

    def to_dataframe(self):  # -> pandas.DataFrame, imported lazily: analysis does not need pandas
        """The table as a pandas DataFrame indexed by class."""
        import pandas as pd

        return pd.DataFrame(self.rows()).set_index("class")


def class_areas(labels: np.ndarray, grid: Grid, n_classes: int) -> ClassAreas:
    """Areas of classes 0..n_classes-1 in a label map; negative labels (no class) are not counted."""
    if labels.shape != grid.shape:
        raise ValueError(f"labels {labels.shape} do not match the grid {grid.shape}")
    rows = np.arange(grid.height)[:, None]
    inside = (labels >= 0) & (labels < n_classes)
    # one bincount over (row, class) pairs: geographic grids have a different pixel area on every row
    counts = np.bincount((rows * n_classes + labels)[inside], minlength=grid.height * n_classes)
    counts = counts.reshape(grid.height, n_classes)
    hectares = counts.T @ pixel_area_m2(grid)[:, 0] / M2_PER_HA
    return ClassAreas(
        tuple(range(n_classes)), tuple(int(p) for p in counts.sum(axis=0)), tuple(float(h) for h in hectares)
    )
