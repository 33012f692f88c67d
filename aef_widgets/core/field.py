"""An embedding field: 64-vectors on a grid, with the mask that says which are real."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from .bands import N_BANDS
from .grid import Grid


@dataclass(frozen=True, eq=False)
class EmbeddingField:
    """Embeddings of one year on one grid.

    ``values`` is float32 shaped (rows, cols, 64) and holds NaN wherever ``mask`` is False, so a pixel without
    data can never pass for a vector in any computation.
    """

    values: np.ndarray
    mask: np.ndarray
    grid: Grid
    year: int | None = None

    def __post_init__(self) -> None:
        if self.values.dtype != np.float32 or self.values.ndim != 3 or self.values.shape[2] != N_BANDS:
            got = f"{self.values.dtype} {self.values.shape}"
            raise ValueError(f"values must be float32 (rows, cols, {N_BANDS}), got {got}")
        if self.mask.dtype != bool or self.mask.shape != self.values.shape[:2]:
            raise ValueError("mask must be boolean and shaped like the values' first two axes")
        if self.grid.shape != self.mask.shape:
            raise ValueError(f"grid shape {self.grid.shape} does not match values {self.mask.shape}")

    @property
    def transform(self) -> Affine:
        return self.grid.transform

    @property
    def crs(self) -> CRS:
        return self.grid.crs

    @property
    def shape(self) -> tuple[int, int]:
        return self.grid.shape

    @property
    def valid_count(self) -> int:
        return int(np.count_nonzero(self.mask))

    @cached_property
    def norms(self) -> np.ndarray:
        """Length of every vector, float32 (rows, cols), NaN without data; computed once per field."""
        return np.sqrt(np.einsum("ijk,ijk->ij", self.values, self.values))

    def valid_vectors(self) -> np.ndarray:
        """(n_valid, 64) float32 copy of the valid pixels, in row-major order."""
        return self.values[self.mask]

    def vector_at(self, lon: float, lat: float) -> np.ndarray:
        """The 64-vector of the pixel containing a lon/lat point (NaN where there is no data)."""
        row, col = self.grid.pixel_of(lon, lat)
        if not self.grid.contains(row, col):
            return np.full(N_BANDS, np.nan, dtype=np.float32)
        return self.values[row, col].copy()

    @classmethod
    def from_values(cls, values: np.ndarray, grid: Grid, year: int | None = None) -> EmbeddingField:
        """Field from float values, where NaN/inf in any band or an all-zero vector means no data."""
        values = np.asarray(values, dtype=np.float32)
        mask = np.isfinite(values).all(axis=2) & (values != 0).any(axis=2)
        values = np.where(mask[..., None], values, np.float32(np.nan))
        return cls(values=values, mask=mask, grid=grid, year=year)
