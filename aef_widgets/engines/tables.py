"""Tables of embeddings: one row per polygon and year (``zonal_embeddings``) or per point and year
(``sample_points``), as GeoDataFrames that keep the input's columns.

Both stream: the rows are grouped by the lattice their source reads them on (``table_grids``), each group's grid
is cut into the source's chunks (whole tiles of its files), and only the chunks that rows touch are read, in the
threads of ``map_chunks`` or on an ``executor`` (a Dask client's included), as the other whole-AOI workflows do.
Memory is the chunks in flight and one accumulator row per polygon. On Earth Engine the same tables come from
``reduceRegions`` (``earthengine_tables``).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from rasterio.windows import Window

from ..analysis.geotable import GeometryError, assemble_rows, lonlat_bounds, lonlat_of, read_points, read_polygons
from ..analysis.zonal import ZonalSums, coverage, weighted_sums
from ..core.bands import BAND_NAMES, N_BANDS
from ..core.grid import Grid
from ..sources.base import EmbeddingSource, subgrid
from .base import Progress
from .table_grids import lattice_groups
from .workflows import CHUNK_BYTES, map_chunks

if TYPE_CHECKING:
    import geopandas as gpd

#: Columns the tables add; an input column of the same name would be overwritten, so it is refused.
ZONAL_COLUMNS = ("year", "pixels", "coverage", *BAND_NAMES, "spread")
POINT_COLUMNS = ("year", "valid", *BAND_NAMES)
#: Pixels (estimated from the polygons' boxes) a chunk's polygons are measured for at a time.
BATCH_CELLS = 65536


@dataclass(frozen=True)
class _Job:
    """One chunk of a group's grid and the rows that touch it (the task sent to a worker: small, picklable)."""

    window: Window
    rows: np.ndarray  # indexes into the whole table
    geometries: np.ndarray  # those rows' shapely geometries in the grid's CRS (polygons), or (n, 2) pixel offsets


def zonal_embeddings(
    source: EmbeddingSource,
    polygons: Any,
    years: int | Sequence[int] | None = None,
    *,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> gpd.GeoDataFrame:
    """One row per polygon and year: the input's columns, ``year``, ``pixels`` (coverage-weighted count of pixels
    with data), ``coverage`` (``pixels`` over the polygon's area in pixels), ``A00``..``A63`` (coverage-weighted mean
    of the unit pixel vectors, renormalised) and ``spread`` (1 minus that mean's length before renormalising).

    ``polygons``: a GeoDataFrame in any CRS, or the path or URL of a GeoJSON, GeoParquet, GeoPackage or Shapefile.
    Polygons without data get NaN vectors and ``pixels`` 0. ``years``: one, several, or all the source has (None).
    """
    table = read_polygons(polygons)
    years = _years(source, years)
    _check_columns(table, ZONAL_COLUMNS)
    if _on_earth_engine(source):
        from .earthengine_tables import ee_zonal

        return ee_zonal(source, table, years, progress)
    report = progress or (lambda fraction, message: None)
    sums = ZonalSums(len(table), len(years))
    area_px = np.full(len(table), np.nan)
    plans = []
    for lattice, rows in lattice_groups(source, lonlat_of(table), lonlat_bounds(table)):
        geometries = _in_crs(table.geometry.iloc[rows], lattice.grid.crs)
        area_px[rows] = shapely.area(geometries) / lattice.grid.resolution**2
        grid = lattice.covering(tuple(shapely.total_bounds(geometries)), source)
        if grid is not None:
            plans.append((grid, _polygon_jobs(source, grid, rows, geometries)))
    total, done = sum(len(jobs) for _, jobs in plans), 0
    for grid, jobs in plans:

        def task(job: _Job, grid: Grid = grid) -> list[tuple[np.ndarray, np.ndarray]]:
            return _chunk_sums(source, subgrid(grid, job.window), job.geometries, years)

        for job, results in map_chunks(jobs, task, source=source, executor=executor):
            for y, (weights, vector_sums) in enumerate(results):
                sums.add(y, job.rows, weights, vector_sums)
            done += 1
            report(done / total, f"measured {done} of {total} chunks")
    columns = [sums.columns(y, area_px) for y in range(len(years))]
    return assemble_rows(table, years, columns)


def sample_points(source: EmbeddingSource, points: Any, years: int | Sequence[int] | None = None) -> gpd.GeoDataFrame:
    """One row per point and year: the input's columns, ``year``, ``valid`` and ``A00``..``A63`` (the vector of the
    pixel holding the point, NaN where there is no data).

    ``points``: a GeoDataFrame of points in any CRS, a CSV with lon/lat columns, or a GeoParquet or other vector
    file. Points are grouped by the tile of the files holding them, and each tile is read once for all its points,
    so 100,000 points in one tile cost one read, not 100,000.
    """
    table = read_points(points)
    years = _years(source, years)
    _check_columns(table, POINT_COLUMNS)
    if _on_earth_engine(source):
        from .earthengine_tables import ee_points

        return ee_points(source, table, years)
    lonlat = lonlat_of(table)
    vectors = np.full((len(years), len(table), N_BANDS), np.nan, dtype=np.float32)
    for lattice, rows in lattice_groups(source, lonlat, np.hstack([lonlat, lonlat])):
        xy = table.geometry.iloc[rows].to_crs(lattice.grid.crs)
        grid = lattice.covering((xy.x.min(), xy.y.min(), xy.x.max(), xy.y.max()), source)
        if grid is None:
            continue
        cols, rws = ~grid.transform @ (xy.x.to_numpy(), xy.y.to_numpy())
        pixel = np.column_stack([np.floor(rws), np.floor(cols)]).astype(np.int64)
        inside = (pixel >= 0).all(axis=1) & (pixel[:, 0] < grid.height) & (pixel[:, 1] < grid.width)
        jobs = _point_jobs(source, grid, rows[inside], pixel[inside])

        def task(job: _Job, grid: Grid = grid) -> list[np.ndarray]:
            sub = subgrid(grid, job.window)
            at = job.geometries
            return [source.read_window(sub, year).values[at[:, 0], at[:, 1]] for year in years]

        for job, found in map_chunks(jobs, task, source=source, executor=None):
            for y, values in enumerate(found):
                vectors[y, job.rows] = values
    columns = []
    for y in range(len(years)):
        valid = np.isfinite(vectors[y]).all(axis=1)
        columns.append({"valid": valid, BAND_NAMES: vectors[y]})
    return assemble_rows(table, years, columns)


def _chunk_sums(
    source: EmbeddingSource, sub: Grid, geometries: np.ndarray, years: list[int]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(weights, sums) a year of the polygons in one chunk, or [] when none covers a pixel of it (nothing read).

    The polygons are measured in batches of about ``BATCH_CELLS`` covered pixels: a whole chunk's cell arrays
    and their sparse products grew with the polygons in it (measured: 18 kB a polygon in flight)."""
    covers = [
        (part, cover) for part in _batches(geometries, sub) if len((cover := coverage(geometries[part], sub)).cell)
    ]
    if not covers:  # the rows' boxes touch this chunk, their shapes do not: nothing to read
        return []
    out = []
    for year in years:
        field = source.read_window(sub, year)
        weights, sums = np.zeros(len(geometries)), np.zeros((len(geometries), N_BANDS))
        for part, cover in covers:
            weights[part], sums[part] = weighted_sums(cover, field, part.stop - part.start)
        out.append((weights, sums))
        del field  # one year's field at a time
    return out


def _batches(geometries: np.ndarray, sub: Grid) -> list[slice]:
    """Consecutive slices of the polygons covering about ``BATCH_CELLS`` pixels each (from their boxes)."""
    left, bottom, right, top = shapely.bounds(geometries).T
    res = sub.resolution
    cells = np.minimum(((right - left) / res + 2) * ((top - bottom) / res + 2), sub.width * sub.height)
    batch = (np.cumsum(cells) - cells) // BATCH_CELLS
    starts = [*np.flatnonzero(np.diff(batch, prepend=-1)), len(geometries)]
    return [slice(int(a), int(b)) for a, b in zip(starts[:-1], starts[1:])]


def _polygon_jobs(source: EmbeddingSource, grid: Grid, rows: np.ndarray, geometries: np.ndarray) -> list[_Job]:
    tree = shapely.STRtree(geometries)
    jobs = []
    for window in source.chunk_windows(grid, CHUNK_BYTES):
        hits = np.sort(tree.query(shapely.box(*subgrid(grid, window).bounds)))
        if len(hits):
            jobs.append(_Job(window, rows[hits], geometries[hits]))
    return jobs


def _in_crs(geometry: gpd.GeoSeries, crs: Any) -> np.ndarray:
    """The geometries in ``crs``, the input's own objects when it is already that CRS (``to_crs`` copies every
    geometry unless the two CRS are written exactly alike, and rasterio's and pyproj's rarely are)."""
    return (geometry if geometry.crs == crs else geometry.to_crs(crs)).to_numpy()


def _point_jobs(source: EmbeddingSource, grid: Grid, rows: np.ndarray, pixel: np.ndarray) -> list[_Job]:
    """One job per tile of the files holding points, reading the smallest window around that tile's points."""
    windows = source.chunk_windows(grid, 1)  # the smallest chunks a source makes: one tile of its files
    row_edges = np.unique([int(w.row_off) for w in windows])
    col_edges = np.unique([int(w.col_off) for w in windows])
    tile = np.column_stack([np.searchsorted(row_edges, pixel[:, 0], "right") - 1,
                            np.searchsorted(col_edges, pixel[:, 1], "right") - 1])  # fmt: skip
    order = np.lexsort((tile[:, 1], tile[:, 0]))
    keys, starts = np.unique(tile[order], axis=0, return_index=True)
    jobs = []
    for members in np.split(order, starts[1:]):
        r0, c0 = pixel[members].min(axis=0)
        r1, c1 = pixel[members].max(axis=0) + 1
        offsets = pixel[members] - [r0, c0]
        jobs.append(_Job(Window(int(c0), int(r0), int(c1 - c0), int(r1 - r0)), rows[members], offsets))
    return jobs


def _years(source: EmbeddingSource, years: int | Sequence[int] | None) -> list[int]:
    if years is None:
        return list(source.years)
    chosen = [years] if isinstance(years, (int, np.integer)) else list(years)
    if not chosen:
        raise GeometryError("choose at least one year")
    return [source.check_year(int(y)) for y in chosen]


def _check_columns(table: gpd.GeoDataFrame, added: tuple[str, ...]) -> None:
    clash = [c for c in table.columns if c in added]
    if clash:
        raise GeometryError(f"the table already has columns named {', '.join(clash)}; rename them first")


def _on_earth_engine(source: EmbeddingSource) -> bool:
    from ..sources.earthengine import EarthEngineSource

    return isinstance(source, EarthEngineSource)
