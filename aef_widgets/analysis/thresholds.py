"""Area above any threshold, answered instantly from a histogram of pixel areas.

A threshold slider must report the matching area on every move. Re-reading the AOI each time would be slow, so the
area of every pixel is binned by its value once (bins of 0.001 over -2..2, finer than any slider step), and the
area above a threshold is a cumulative sum. Values are binned by floor(value * 1000), so a threshold on the bin
grid counts exactly the pixels with ``value >= threshold``.
"""

from __future__ import annotations

import numpy as np

from ..core.grid import Grid
from .area import M2_PER_HA, pixel_area_m2

_SCALE = 1000
_LOW, _HIGH = -2 * _SCALE, 2 * _SCALE  # dot products of unit vectors, and 1 - dot, lie within -2..2


class AreaHistogram:
    """Accumulates (value, pixel area) over one or more grids; answers area and share above thresholds."""

    def __init__(self) -> None:
        self._hectares = np.zeros(_HIGH - _LOW + 1, dtype=np.float64)

    def add(self, values: np.ndarray, grid: Grid) -> AreaHistogram:
        """Add the valid (finite) pixels of a (rows, cols) map on ``grid``."""
        valid = np.isfinite(values)
        area = np.broadcast_to(pixel_area_m2(grid), values.shape)[valid] / M2_PER_HA
        bins = np.clip(np.floor(values[valid].astype(np.float64) * _SCALE), _LOW, _HIGH).astype(np.int64) - _LOW
        self._hectares += np.bincount(bins, weights=area, minlength=self._hectares.size)
        return self

    @property
    def total_ha(self) -> float:
        return float(self._hectares.sum())

    def area_above(self, threshold: float) -> float:
        """Hectares with value >= threshold (threshold rounded to the 0.001 grid)."""
        start = int(np.clip(round(threshold * _SCALE), _LOW, _HIGH + 1)) - _LOW
        return float(self._hectares[start:].sum())

    def percent_above(self, threshold: float) -> float:
        total = self.total_ha
        return 100.0 * self.area_above(threshold) / total if total else 0.0
