"""Every year of an AOI, streamed: when it changed, how anomalous a year is, and the AOI-mean trajectory.

Each chunk of the grid reads its years one after another and keeps at most two of them (the current year and the
pixels' latest earlier vectors), so memory stays flat in the number of years as well as bounded in the AOI's
size; chunks run in the pool of ``map_chunks`` like every other streamed workflow. Definitions are those of
``analysis.temporal``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from rasterio.windows import Window

from ..analysis.temporal import (
    NO_YEAR,
    ChangeYears,
    ChangeYearsBuilder,
    RobustScale,
    Trajectory,
    TrajectorySums,
    anomaly,
    pixel_trajectory,
    robust_scale,
)
from ..core.aoi import AOI
from ..core.errors import YearError
from ..core.field import EmbeddingField
from ..core.grid import Grid
from ..sources.base import EmbeddingSource, mask_to_aoi, subgrid
from .base import Progress
from .workflows import CHUNK_BYTES, WORKERS, map_chunks


@dataclass(frozen=True, eq=False)
class AnomalyMap:
    """How far ``year`` departs from each pixel's other years: raw ``1 - cos`` and the robust score."""

    year: int
    years: tuple[int, ...]
    raw: np.ndarray  # float32 (rows, cols), NaN without data
    score: np.ndarray  # float32 (rows, cols): (raw - median) / (1.4826 MAD) over the AOI
    scale: RobustScale
    grid: Grid


def temporal_years(source: EmbeddingSource, years: Sequence[int] | None) -> tuple[int, ...]:
    """The years to compare: all of the source's, or the ones given (checked, ascending); at least two."""
    chosen = tuple(sorted({source.check_year(y) for y in years})) if years is not None else tuple(source.years)
    if len(chosen) < 2:
        raise YearError(f"comparing years needs at least two; {source.name} has {', '.join(map(str, chosen))}")
    return chosen


def _years_of(
    source: EmbeddingSource,
    grid: Grid,
    window: Window,
    years: Sequence[int],
    aoi: AOI | None,
    known: dict[int, EmbeddingField] | None = None,
) -> Iterator[EmbeddingField]:
    """The window's field of each year, read only when the consumer asks for it (``known`` ones are not read)."""
    sub = subgrid(grid, window)
    for year in years:
        if known and year in known:
            yield known[year]
        else:
            yield mask_to_aoi(source.read_window(sub, year), aoi)


def _windows(source: EmbeddingSource, grid: Grid) -> list[Window]:
    # the usual chunk, though one holds two years at once: a smaller one would be a single tile, which GDAL
    # decodes on one thread through its block cache, slower than the 2 x 2 tiles that single-year reads take
    return source.chunk_windows(grid, CHUNK_BYTES)


def change_years_grid(
    source: EmbeddingSource,
    grid: Grid,
    aoi: AOI | None,
    years: Sequence[int] | None = None,
    progress: Progress | None = None,
    workers: int = WORKERS,
) -> ChangeYears:
    """When did each pixel of ``grid`` change: the year of its largest year-to-year change and its size."""
    years = temporal_years(source, years)
    windows = _windows(source, grid)
    report = progress or (lambda fraction, message: None)
    year_map = np.full(grid.shape, NO_YEAR, np.int16)
    size = np.full(grid.shape, np.nan, np.float32)

    def task(window: Window) -> ChangeYears:
        builder = ChangeYearsBuilder(years, subgrid(grid, window))
        for field in _years_of(source, grid, window, years, aoi):
            builder.add(field)
        return builder.result()

    for i, (window, chunk) in enumerate(map_chunks(windows, task, workers, source)):
        year_map[window.toslices()] = chunk.year
        size[window.toslices()] = chunk.size
        report((i + 1) / len(windows), f"comparing {len(years)} years")
    return ChangeYears(years, year_map, size, grid)


def anomaly_grid(
    source: EmbeddingSource,
    grid: Grid,
    aoi: AOI | None,
    year: int,
    years: Sequence[int] | None = None,
    min_years: int = 2,
    progress: Progress | None = None,
    workers: int = WORKERS,
) -> AnomalyMap:
    """How far ``year`` departs from each pixel's other years, normalised by the AOI's median and MAD."""
    years = temporal_years(source, years)
    source.check_year(year)
    if year not in years:
        years = tuple(sorted({*years, int(year)}))
    windows = _windows(source, grid)
    report = progress or (lambda fraction, message: None)
    raw = np.full(grid.shape, np.nan, np.float32)

    def task(window: Window) -> np.ndarray:
        return anomaly(_years_of(source, grid, window, years, aoi), years, year, min_years)

    for i, (window, chunk) in enumerate(map_chunks(windows, task, workers, source)):
        raw[window.toslices()] = chunk
        report((i + 1) / len(windows), f"comparing {year} with {len(years) - 1} other years")
    scale = robust_scale(raw)
    return AnomalyMap(int(year), years, raw, scale.score(raw), scale, grid)


def trajectory_grid(
    source: EmbeddingSource,
    grid: Grid,
    aoi: AOI | None,
    reference_year: int,
    years: Sequence[int] | None = None,
    workers: int = WORKERS,
) -> Trajectory:
    """The AOI-mean trajectory: mean similarity of every year to ``reference_year`` and to the year before."""
    years = temporal_years(source, years)
    source.check_year(reference_year)
    windows = _windows(source, grid)
    sums = TrajectorySums(years, reference_year)

    def task(window: Window) -> TrajectorySums:
        reference = mask_to_aoi(source.read_window(subgrid(grid, window), reference_year), aoi)
        fields = _years_of(source, grid, window, years, aoi, {reference_year: reference})
        return TrajectorySums(years, reference_year).add(reference, fields)

    for _window, chunk in map_chunks(windows, task, workers, source):
        sums.merge(chunk)
    return sums.trajectory()


def point_trajectory(
    source: EmbeddingSource, point: tuple[float, float], reference_year: int, years: Sequence[int] | None = None
) -> Trajectory:
    """The trajectory of the pixel at a lon/lat point (one ``sample`` per year)."""
    years = temporal_years(source, years)
    source.check_year(reference_year)
    if reference_year not in years:
        years = tuple(sorted({*years, int(reference_year)}))
    vectors = np.stack([source.sample([point], year)[0] for year in years])
    return pixel_trajectory(vectors, years, reference_year)
