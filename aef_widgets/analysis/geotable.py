"""Tables of places given by users: polygons (fields, parcels, census blocks) and points (plots, samples), read from a
GeoDataFrame or a vector file and checked before any pixel is read.

Files are read with pyogrio (GeoJSON, GeoParquet, GeoPackage, Shapefile, anything GDAL reads as vectors); a CSV of
points is read with pandas and its lon/lat columns found by name. Whatever cannot be used is refused in words that
name the rows at fault: a table with no CRS, empty or invalid geometries, a file that is not vector data. No row is
ever dropped quietly: the output of a table function has a row for every input row.
"""

from __future__ import annotations

from os import PathLike, fspath
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.errors import UsageError
from ..core.grid import LONLAT

if TYPE_CHECKING:  # geopandas costs a second to import: loaded by the table functions, not by a map
    import geopandas as gpd

#: Column names taken for longitude and latitude in a CSV of points, first match wins (case-insensitive).
LON_NAMES = ("lon", "longitude", "lng", "long", "x")
LAT_NAMES = ("lat", "latitude", "y")
#: Geometries reprojected at a time for their lon/lat points and bounds.
BLOCK_ROWS = 16384


class GeometryError(UsageError):
    """A table of polygons or points that cannot be used as given (no CRS, empty or invalid geometries, not vector
    data); the message names the rows at fault and what to do."""


def read_polygons(polygons: Any) -> gpd.GeoDataFrame:
    """``polygons`` (a GeoDataFrame, or a path or URL to a vector file) as a GeoDataFrame of valid, non-empty
    Polygons and MultiPolygons with a CRS; ``GeometryError`` otherwise."""
    table = _as_table(polygons, "polygons")
    kinds = table.geometry.geom_type
    _refuse(table, ~kinds.isin(["Polygon", "MultiPolygon"]) & ~table.geometry.is_empty & table.geometry.notna(),
            "are not polygons ({kinds})", kinds)  # fmt: skip
    invalid = ~table.geometry.is_valid & ~table.geometry.is_empty & table.geometry.notna()
    _refuse(table, invalid, "are invalid polygons (self-crossing rings?); repair them first, e.g. with make_valid()")
    return table


def read_points(points: Any) -> gpd.GeoDataFrame:
    """``points`` (a GeoDataFrame, a CSV with lon/lat columns, or a vector file such as GeoParquet) as a
    GeoDataFrame of points with a CRS; ``GeometryError`` otherwise."""
    path = _path_of(points)
    if path is not None and path.lower().endswith((".csv", ".csv.gz", ".txt")):
        table = _csv_points(path)
    else:
        table = _as_table(points, "points")
    kinds = table.geometry.geom_type
    _refuse(table, kinds != "Point", "are not points ({kinds})", kinds)
    return table


def lonlat_of(table: gpd.GeoDataFrame) -> np.ndarray:
    """(n, 2) lon/lat of every geometry's representative point (a point inside it), float64."""
    out = np.empty((len(table), 2))
    for a in range(0, len(table), BLOCK_ROWS):  # a block at a time: the points and their copies are transient
        points = table.geometry.iloc[a : a + BLOCK_ROWS].representative_point()
        if table.crs != LONLAT:
            points = points.to_crs(LONLAT)
        out[a : a + BLOCK_ROWS] = np.column_stack([points.x.to_numpy(), points.y.to_numpy()])
    return out


def lonlat_bounds(table: gpd.GeoDataFrame) -> np.ndarray:
    """(n, 4) west, south, east, north of every geometry in degrees."""
    if table.crs == LONLAT:
        return table.geometry.bounds.to_numpy()
    out = np.empty((len(table), 4))
    for a in range(0, len(table), BLOCK_ROWS):  # a block at a time: a whole layer's reprojected copy is not kept
        out[a : a + BLOCK_ROWS] = table.geometry.iloc[a : a + BLOCK_ROWS].to_crs(LONLAT).bounds.to_numpy()
    return out


def assemble_rows(
    table: gpd.GeoDataFrame, years: list[int], columns: list[dict[str | tuple[str, ...], np.ndarray]]
) -> gpd.GeoDataFrame:
    """Rows polygon by polygon (or point by point), each one's years in order; the input's index repeated.

    ``columns`` has one dict a year: a name and its (n,) values, or a tuple of names and their (n, m) values of one
    dtype (the 64 bands), which become columns without a copy for one year instead of 64 arrays stacked twice."""
    import geopandas as gpd
    import pandas as pd

    n, k = len(table), len(years)
    repeated = table if k == 1 else table.iloc[np.repeat(np.arange(n), k)]
    name = table.geometry.name
    parts, scalars = [repeated.drop(columns=name)], {"year": np.tile(np.asarray(years, dtype=np.int64), n)}
    for key in columns[0]:
        values = columns[0][key] if k == 1 else np.stack([c[key] for c in columns], axis=1)
        if isinstance(key, tuple):
            parts.append(pd.DataFrame(scalars, index=repeated.index))
            block = values.reshape(n * k, len(key))
            parts.append(pd.DataFrame(block, index=repeated.index, columns=list(key), copy=False))
            scalars = {}
        else:
            scalars[key] = values.reshape(n * k)
    parts.append(pd.DataFrame(scalars, index=repeated.index))
    out = pd.concat(parts, axis=1)
    out[name] = repeated.geometry.to_numpy()
    return gpd.GeoDataFrame(out, geometry=name, crs=table.crs)


def _as_table(obj: Any, what: str) -> gpd.GeoDataFrame:
    import geopandas as gpd

    if isinstance(obj, gpd.GeoDataFrame):
        table = obj
    elif isinstance(obj, gpd.GeoSeries):
        table = gpd.GeoDataFrame(geometry=obj)
    elif (path := _path_of(obj)) is not None:
        table = _read_file(path, what)
    else:
        raise GeometryError(f"{what} must be a GeoDataFrame or the path of a vector file, not {type(obj).__name__}")
    if table.crs is None:
        raise GeometryError(
            f"the {what} have no CRS, so where they lie is unknown; set it first, e.g. table.set_crs('EPSG:4326') "
            "for longitude/latitude degrees"
        )
    if len(table) == 0:
        raise GeometryError(f"the {what} table has no rows")
    _refuse(table, table.geometry.isna() | table.geometry.is_empty, "have no geometry (empty or missing)")
    return table


def _path_of(obj: Any) -> str | None:
    return fspath(obj) if isinstance(obj, (str, PathLike)) else None


def _read_file(path: str, what: str) -> gpd.GeoDataFrame:
    import pyogrio

    local = "://" not in path
    if local and not Path(path).exists():
        raise GeometryError(f"no such file: {path}")
    try:
        if path.lower().endswith((".parquet", ".geoparquet")):
            import geopandas as gpd

            return gpd.read_parquet(path)
        return pyogrio.read_dataframe(path)
    except Exception as e:  # pyogrio's DataSourceError, arrow's errors, a parquet without geometry
        raise GeometryError(f"cannot read {what} from {path}: it is not vector data GDAL can read ({e})") from None


def _csv_points(path: str) -> gpd.GeoDataFrame:
    import geopandas as gpd
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise GeometryError(f"cannot read points from {path}: {e}") from None
    lower = {c.lower(): c for c in frame.columns}
    lon = next((lower[n] for n in LON_NAMES if n in lower), None)
    lat = next((lower[n] for n in LAT_NAMES if n in lower), None)
    if lon is None or lat is None:
        raise GeometryError(
            f"{path} needs longitude and latitude columns (named lon and lat); it has {', '.join(frame.columns)}"
        )
    xs, ys = pd.to_numeric(frame[lon], errors="coerce"), pd.to_numeric(frame[lat], errors="coerce")
    bad = ~(np.isfinite(xs) & np.isfinite(ys) & (xs.abs() <= 360) & (ys.abs() <= 90))
    if bad.any():
        rows = ", ".join(map(str, frame.index[bad][:5] + 2))  # line numbers of the file, after the header
        raise GeometryError(f"{path}: {int(bad.sum())} rows have no usable lon/lat degrees (lines {rows})")
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(xs, ys), crs=LONLAT)


def _refuse(table: gpd.GeoDataFrame, bad: Any, what: str, kinds: Any = None) -> None:
    bad = np.asarray(bad, dtype=bool)
    if not bad.any():
        return
    rows = list(table.index[bad][:5])
    more = f" and {int(bad.sum()) - len(rows)} more" if bad.sum() > len(rows) else ""
    found = ", ".join(sorted(set(map(str, kinds[bad])))) if kinds is not None else ""
    raise GeometryError(f"rows {', '.join(map(str, rows))}{more} " + what.format(kinds=found))
