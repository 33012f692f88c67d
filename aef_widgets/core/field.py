"""An embedding field: 64-vectors on a grid, with the mask that says which are real; and a band field, a few of
those bands read for display, which is not a field of vectors."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from .bands import BAND_NAMES, N_BANDS
from .grid import Grid

if TYPE_CHECKING:  # xarray loads only when a field is converted
    import xarray as xr


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

    def select(self, bands: tuple[int, ...]) -> BandField:
        """These bands (0-based indexes of A00..A63) of the field, as a ``BandField``."""
        values = self.values[..., list(bands)]
        return BandField(values=values, mask=self.mask, grid=self.grid, bands=tuple(bands), year=self.year)

    @classmethod
    def from_values(cls, values: np.ndarray, grid: Grid, year: int | None = None) -> EmbeddingField:
        """Field from float values, where NaN/inf in any band or an all-zero vector means no data."""
        values = np.asarray(values, dtype=np.float32)
        mask = np.isfinite(values).all(axis=2) & (values != 0).any(axis=2)
        values = np.where(mask[..., None], values, np.float32(np.nan))
        return cls(values=values, mask=mask, grid=grid, year=year)

    def to_xarray(self) -> xr.DataArray:
        """The field as an xarray DataArray ``(y, x, band)``, bands ``A00``..``A63``, NaN without data, CRS and
        transform written as rioxarray writes them (``core.xarray_bridge``); it shares the field's memory."""
        from .xarray_bridge import field_to_xarray

        return field_to_xarray(self.values, self.grid, self.year)

    @classmethod
    def from_xarray(cls, da: xr.DataArray, year: int | None = None) -> EmbeddingField:
        """A field from a DataArray with dims ``y, x, band`` (64 bands, labelled ``A00``..``A63`` or in that order)
        georeferenced as rioxarray writes it; NaN (or an all-zero vector) is no data. ``year`` defaults to the
        array's ``year`` attribute."""
        from .xarray_bridge import field_values, grid_of

        grid, values = grid_of(da), field_values(da)
        if grid.transform.e > 0:  # rows stored bottom-up: fields are north-up
            t = grid.transform
            values = values[::-1]
            grid = Grid(Affine(t.a, 0, t.c, 0, -t.e, t.f + t.e * grid.height), grid.width, grid.height, grid.crs)
        year = year if year is not None else da.attrs.get("year")
        return cls.from_values(values, grid, None if year is None else int(year))


@dataclass(frozen=True, eq=False)
class BandField:
    """Some bands of one year's embeddings on a grid, read for display (an RGB composite reads three of the 64).

    Not an ``EmbeddingField``: its pixels are not vectors, so nothing that needs one (norms, similarity, PCA,
    k-means) can be given it by mistake. ``values`` is float32 (rows, cols, len(bands)) in the order of ``bands``
    (0-based indexes of A00..A63), NaN wherever ``mask`` is False. A pixel is masked when any of these bands is
    nodata or all of them are zero, the test a full read applies to all 64: the release writes nodata (-128) to
    every band of a missing pixel, so the two agree on its files.
    """

    values: np.ndarray
    mask: np.ndarray
    grid: Grid
    bands: tuple[int, ...]
    year: int | None = None

    def __post_init__(self) -> None:
        if self.values.dtype != np.float32 or self.values.ndim != 3 or self.values.shape[2] != len(self.bands):
            got = f"{self.values.dtype} {self.values.shape}"
            raise ValueError(f"values must be float32 (rows, cols, {len(self.bands)}), got {got}")
        if not all(0 <= b < N_BANDS for b in self.bands):
            raise ValueError(f"bands are indexes 0..{N_BANDS - 1} of A00..A63, got {self.bands}")
        if self.mask.dtype != bool or self.mask.shape != self.values.shape[:2] or self.grid.shape != self.mask.shape:
            raise ValueError("mask must be boolean and shaped like the grid and the values' first two axes")

    @property
    def shape(self) -> tuple[int, int]:
        return self.grid.shape

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(BAND_NAMES[b] for b in self.bands)

    def band(self, index: int) -> np.ndarray:
        """The (rows, cols) values of band ``index`` (0-based, of A00..A63), which this field must hold."""
        if index not in self.bands:
            raise KeyError(f"{BAND_NAMES[index]} was not read; this field holds {', '.join(self.names)}")
        return self.values[..., self.bands.index(index)]
