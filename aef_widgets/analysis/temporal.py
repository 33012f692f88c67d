"""Time: how each year of a place relates to its other years.

All comparisons are cosines of vectors at unit length, as in ``similarity``. Definitions, for one pixel with
embeddings ``v_t`` in the years ``t`` of a source:

- **similarity to a reference year** ``r``: ``cos(v_t, v_r)``; NaN in a year where the pixel or the reference has
  no data.
- **year-to-year similarity** of year ``t``: ``cos(v_t, v_p)``, where ``p`` is the pixel's latest earlier year
  *with data*. A year without data is skipped, not bridged with a guess: the change across it is counted in the
  next year that has data. The first year with data has none (NaN).
- **change** of year ``t``: ``1 - year-to-year similarity``; **when it changed**: the year of the pixel's largest
  change and its size (ties go to the earlier year); no year (0) and NaN size where the pixel has fewer than two
  years with data.
- **anomaly** of year ``y``: ``1 - cos(v_y, m)``, where ``m`` is the mean of the unit vectors of the pixel's other
  years with data (at least ``min_years`` of them, else NaN): how far that year departs from the pixel's usual
  self. Stable pixels score a little above 0 (yearly noise); a pixel that was different only that year scores high.
- **anomaly score**: the anomaly normalised across the AOI with the median and the median absolute deviation
  (MAD, scaled by 1.4826 so it equals the standard deviation for normal data): ``(a - median) / (1.4826 MAD)``. A
  robust z-score: a threshold of 3 means "three typical spreads above this AOI's typical departure", whatever the
  landscape's own level of yearly noise, and a few large anomalies do not move the median or the MAD.

AOI means average the per-pixel values over the pixels that have them (for each year its own count).
Functions consume one year's field at a time, so a caller streaming years holds one or two years in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ..core.errors import NoDataError
from ..core.field import EmbeddingField
from ..core.grid import Grid
from .area import ClassAreas, class_areas

#: Scales the MAD to the standard deviation of normal data.
MAD_TO_STD = 1.4826
NO_YEAR = 0


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of (..., 64) vectors; NaN where either has no data."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.einsum("...k,...k->...", a, b) / np.sqrt(
            np.einsum("...k,...k->...", a, a) * np.einsum("...k,...k->...", b, b)
        )


# --- trajectories ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trajectory:
    """Similarity of every year to a reference year, and to the year before, of a pixel or an AOI mean."""

    years: tuple[int, ...]
    reference_year: int
    to_reference: np.ndarray  # (years,) float64; NaN where nothing had data
    year_to_year: np.ndarray  # (years,) float64; NaN for the first year with data
    pixels: np.ndarray  # (years,) int64: pixels averaged for ``to_reference`` (1 or 0 for a pixel)

    def rows(self) -> list[dict]:
        """One dict per year: year, to_reference, year_to_year, pixels."""
        return [
            {"year": y, "to_reference": float(r), "year_to_year": float(s), "pixels": int(n)}
            for y, r, s, n in zip(self.years, self.to_reference, self.year_to_year, self.pixels)
        ]


def pixel_trajectory(vectors: np.ndarray, years: Sequence[int], reference_year: int) -> Trajectory:
    """Trajectory of one pixel from its (years, 64) vectors, a row of NaN where a year has no data."""
    v = np.asarray(vectors, dtype=np.float64)
    years = tuple(int(y) for y in years)
    if v.shape != (len(years), v.shape[-1]) or reference_year not in years:
        raise ValueError(f"need one vector per year of {years} and a reference year among them")
    valid = np.isfinite(v).all(axis=1) & (v != 0).any(axis=1)
    to_ref = _cos(v, v[years.index(reference_year)][None])
    y2y = np.full(len(years), np.nan)
    seen = np.flatnonzero(valid)
    y2y[seen[1:]] = _cos(v[seen[1:]], v[seen[:-1]])
    return Trajectory(years, int(reference_year), to_ref, y2y, np.isfinite(to_ref).astype(np.int64))


class TrajectorySums:
    """Sums over an AOI, year by year, from which an AOI-mean ``Trajectory`` follows; add chunks in any order."""

    def __init__(self, years: Sequence[int], reference_year: int) -> None:
        self.years = tuple(int(y) for y in years)
        self.reference_year = int(reference_year)
        n = len(self.years)
        self.ref_sum, self.ref_count = np.zeros(n), np.zeros(n, np.int64)
        self.y2y_sum, self.y2y_count = np.zeros(n), np.zeros(n, np.int64)

    def add(self, reference: EmbeddingField, fields: Iterable[EmbeddingField]) -> TrajectorySums:
        """Add one chunk: the reference year's field and every year's field on the same grid, in year order."""
        latest = LatestVectors()
        for i, field in enumerate(fields):
            with np.errstate(invalid="ignore", divide="ignore"):
                to_ref = np.einsum("...k,...k->...", field.values, reference.values) / (field.norms * reference.norms)
            ok = np.isfinite(to_ref)
            self.ref_sum[i] += to_ref[ok].sum(dtype=np.float64)
            self.ref_count[i] += np.count_nonzero(ok)
            y2y = latest.update(field)
            if y2y is not None:
                ok = np.isfinite(y2y)
                self.y2y_sum[i] += y2y[ok].sum(dtype=np.float64)
                self.y2y_count[i] += np.count_nonzero(ok)
        return self

    def merge(self, other: TrajectorySums) -> TrajectorySums:
        """Add the sums of another part of the AOI."""
        for name in ("ref_sum", "ref_count", "y2y_sum", "y2y_count"):
            getattr(self, name)[:] += getattr(other, name)
        return self

    def trajectory(self) -> Trajectory:
        """The AOI means of the sums added so far."""
        if not self.ref_count.any():
            raise NoDataError("the AOI has no pixel with data in the reference year")
        with np.errstate(invalid="ignore", divide="ignore"):
            return Trajectory(
                self.years,
                self.reference_year,
                np.where(self.ref_count > 0, self.ref_sum / self.ref_count, np.nan),
                np.where(self.y2y_count > 0, self.y2y_sum / self.y2y_count, np.nan),
                self.ref_count.copy(),
            )


class LatestVectors:
    """Each pixel's latest vector with data, year after year, and each year's similarity to it.

    The arrays of the fields given are never modified: the latest vectors are copied only when a year has pixels
    without data (the earlier vector stays for those).
    """

    def __init__(self) -> None:
        self.values: np.ndarray | None = None
        self.norms: np.ndarray | None = None
        self._owned = False

    def update(self, field: EmbeddingField) -> np.ndarray | None:
        """The year-to-year similarity of ``field`` (None for the first year), then take its vectors."""
        if self.values is None:
            self.values, self.norms, self._owned = field.values, field.norms, False
            return None
        with np.errstate(invalid="ignore", divide="ignore"):
            y2y = np.einsum("...k,...k->...", field.values, self.values) / (field.norms * self.norms)
        if field.mask.all():
            self.values, self.norms, self._owned = field.values, field.norms, False
        else:
            if not self._owned:
                self.values, self.norms, self._owned = self.values.copy(), self.norms.copy(), True
            np.copyto(self.values, field.values, where=field.mask[..., None])
            np.copyto(self.norms, field.norms, where=field.mask)
        return y2y


# --- when did it change ------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ChangeYears:
    """Per pixel, the year of the largest year-to-year change and its size (1 - cosine)."""

    years: tuple[int, ...]  # the years compared, ascending
    year: np.ndarray  # int16 (rows, cols): the first year showing the change; 0 (NO_YEAR) without two years of data
    size: np.ndarray  # float32 (rows, cols): 1 - cosine of that change; NaN without two years of data
    grid: Grid

    def above(self, threshold: float) -> np.ndarray:
        """The year map where the change is at least ``threshold``, 0 elsewhere."""
        with np.errstate(invalid="ignore"):
            return np.where(self.size >= threshold, self.year, NO_YEAR).astype(np.int16)

    def areas(self, threshold: float = 0.0) -> ClassAreas:
        """Area changed in each year (classes are the years after the first), counting changes >= threshold."""
        later = np.asarray(self.years[1:], dtype=np.int16)
        year = self.above(threshold)
        index = np.searchsorted(later, year)
        labels = np.where(year == NO_YEAR, -1, index)
        areas = class_areas(labels, self.grid, len(later))
        return ClassAreas(tuple(int(y) for y in later), areas.pixels, areas.hectares)


class ChangeYearsBuilder:
    """Builds ``ChangeYears`` from one year's field at a time, in year order: memory flat in the number of years."""

    def __init__(self, years: Sequence[int], grid: Grid) -> None:
        self.years = tuple(int(y) for y in years)
        self.grid = grid
        self.year = np.zeros(grid.shape, np.int16)
        self.size = np.full(grid.shape, np.nan, np.float32)
        self._latest = LatestVectors()
        self._count = 0

    def add(self, field: EmbeddingField) -> ChangeYearsBuilder:
        if self._count >= len(self.years) or field.grid.shape != self.grid.shape:
            raise ValueError("add one field per year, in year order, on the builder's grid")
        year = self.years[self._count]
        self._count += 1
        y2y = self._latest.update(field)
        if y2y is not None:
            change = np.float32(1) - y2y.astype(np.float32, copy=False)
            with np.errstate(invalid="ignore"):
                larger = change > self.size  # NaN compares False: no data never wins
            larger |= np.isnan(self.size) & np.isfinite(change)
            self.size[larger] = change[larger]
            self.year[larger] = year
        return self

    def result(self) -> ChangeYears:
        if self._count != len(self.years):
            raise ValueError(f"got {self._count} of {len(self.years)} years")
        return ChangeYears(self.years, self.year, self.size, self.grid)


def change_years(fields: Iterable[EmbeddingField], years: Sequence[int]) -> ChangeYears:
    """When did each pixel change: ``fields`` are the years' fields on one grid, in year order."""
    builder = None
    for field in fields:
        builder = builder or ChangeYearsBuilder(years, field.grid)
        builder.add(field)
    if builder is None:
        raise ValueError("no fields")
    return builder.result()


# --- anomaly -----------------------------------------------------------------------------------------------------
def anomaly(fields: Iterable[EmbeddingField], years: Sequence[int], year: int, min_years: int = 2) -> np.ndarray:
    """Per pixel, ``1 - cos`` of ``year`` to the mean direction of the pixel's other years with data: float32
    (rows, cols), NaN where ``year`` has no data or fewer than ``min_years`` other years do."""
    years = tuple(int(y) for y in years)
    if year not in years:
        raise ValueError(f"{year} is not among the years {years}")
    total = count = target = None
    for y, field in zip(years, fields, strict=True):
        if y == year:
            target = field.values
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            u = field.values / field.norms[..., None]
        np.nan_to_num(u, copy=False)  # no data adds nothing to the sum
        total = u.astype(np.float64) if total is None else total + u
        count = field.mask.astype(np.int16) if count is None else count + field.mask
    if target is None or total is None:
        raise ValueError("the anomaly needs the chosen year and at least one other")
    out = (1 - _cos(target, total)).astype(np.float32)
    out[count < min_years] = np.nan
    return out


@dataclass(frozen=True)
class RobustScale:
    """Median and scaled MAD of an anomaly map's valid pixels."""

    median: float
    scale: float  # 1.4826 * MAD

    def score(self, values: np.ndarray) -> np.ndarray:
        """``(values - median) / scale``, float32; NaN stays NaN."""
        return ((np.asarray(values, np.float64) - self.median) / self.scale).astype(np.float32)


def robust_scale(values: np.ndarray) -> RobustScale:
    """The median and 1.4826 x MAD of the finite values; a NoDataError when there are none or all are equal."""
    v = np.asarray(values)
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise NoDataError("no pixel has an anomaly: the AOI needs data in the chosen year and in others")
    median = float(np.median(v))
    scale = MAD_TO_STD * float(np.median(np.abs(v - median)))
    if not scale > 0:
        raise NoDataError("the anomaly is the same everywhere, so it cannot be normalised")
    return RobustScale(median, scale)
