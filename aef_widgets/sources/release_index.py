"""The index of the public release: one row per COG (year, UTM zone, CRS, bounds in lon/lat and in UTM).

The published ``aef_index.parquet`` is fetched once and kept on disk; then each year's bounds live in numpy arrays,
so finding the tiles under an area is one vectorised comparison (well under a millisecond for a year's tens of
thousands of rows). The years come from the index, so a new year appears without a code change. Tiles are found
through the index only: file names carry scene offsets, not a position on a global grid.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import SourceError
from .release_http import download
from .release_stac import STAC_COLUMNS, stac_table

if TYPE_CHECKING:  # pyarrow holds 60 MiB once loaded: only apps that open the release read an index
    import pyarrow as pa

log = logging.getLogger(__name__)

#: Columns the index must have (the published one also has ``fid`` and ``utm_zone``, which are not needed).
REQUIRED_COLUMNS = (
    "path", "year", "crs",
    "wgs84_west", "wgs84_south", "wgs84_east", "wgs84_north",
    "utm_west", "utm_south", "utm_east", "utm_north",
)  # fmt: skip
_WGS84 = ("wgs84_west", "wgs84_south", "wgs84_east", "wgs84_north")
_UTM = ("utm_west", "utm_south", "utm_east", "utm_north")


@dataclass(frozen=True)
class Tile:
    """One file of the release, as the index describes it."""

    url: str
    year: int
    crs: str
    lonlat_bounds: tuple[float, float, float, float]
    utm_bounds: tuple[float, float, float, float]


@dataclass(frozen=True)
class _Year:
    paths: np.ndarray  # object array of resolved URLs
    crs: np.ndarray  # object array of CRS strings ("EPSG:32616")
    lonlat: np.ndarray  # (n, 4) west, south, east, north
    utm: np.ndarray  # (n, 4) in each tile's own CRS


class ReleaseIndex:
    """Tiles of the release by year, found by lon/lat bounds."""

    def __init__(self, table: pa.Table, annual_root: str, where: str = "the index") -> None:
        missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
        if missing:
            raise SourceError(
                f"{where} lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
                f"an AEF index needs {', '.join(REQUIRED_COLUMNS)}"
            )
        if table.num_rows == 0:
            raise SourceError(f"{where} lists no files")
        self.annual_root = annual_root.rstrip("/")
        years = np.asarray(table.column("year").to_numpy(zero_copy_only=False), dtype=np.int64)
        paths = np.asarray([resolve(p, self.annual_root) for p in table.column("path").to_pylist()], dtype=object)
        crs = np.asarray([_crs_text(c) for c in table.column("crs").to_pylist()], dtype=object)
        lonlat = np.column_stack([_floats(table, c) for c in _WGS84])
        utm = np.column_stack([_floats(table, c) for c in _UTM])
        self._years = {
            int(y): _Year(paths[years == y], crs[years == y], lonlat[years == y], utm[years == y])
            for y in np.unique(years)
        }
        self.coverage = (
            float(lonlat[:, 0].min()),
            float(lonlat[:, 1].min()),
            float(lonlat[:, 2].max()),
            float(lonlat[:, 3].max()),
        )

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(self._years)

    def __len__(self) -> int:
        return sum(len(y.paths) for y in self._years.values())

    def lookup(self, bounds: tuple[float, float, float, float], year: int) -> list[Tile]:
        """Tiles of ``year`` whose lon/lat bounds overlap ``bounds`` (west, south, east, north)."""
        rows = self.rows(bounds, year)
        if not len(rows):
            return []
        y = self._years[int(year)]
        return [
            Tile(y.paths[i], year, y.crs[i], tuple(map(float, y.lonlat[i])), tuple(map(float, y.utm[i]))) for i in rows
        ]

    def rows(self, bounds: tuple[float, float, float, float], year: int) -> np.ndarray:
        """Row numbers of the tiles of ``year`` overlapping ``bounds``, without building Tile objects."""
        y = self._years.get(int(year))
        if y is None:
            return np.empty(0, dtype=np.int64)
        west, south, east, north = bounds
        b = y.lonlat
        lat = (b[:, 1] < north) & (b[:, 3] > south)
        plain = b[:, 0] <= b[:, 2]
        # a tile across the antimeridian has west > east: it covers west..180 and -180..east
        lon = np.where(plain, (b[:, 0] < east) & (b[:, 2] > west), (b[:, 0] < east) | (b[:, 2] > west))
        return np.flatnonzero(lat & lon)

    def count(self, bounds: tuple[float, float, float, float]) -> int:
        """The most tiles any one year has under ``bounds``."""
        return max((len(self.rows(bounds, y)) for y in self._years), default=0)


def resolve(path: str | bytes, annual_root: str) -> str:
    """A tile's URL on the chosen mirror: the part of its indexed path from ``v1/annual/`` on, under the mirror.

    Some Parquet readers see the published ``path`` column as binary: its bytes are decoded, never ``str()``-ed
    (which would end every URL in a quote, and every read in a 404).
    """
    text = bytes(path).decode("utf-8") if isinstance(path, (bytes, bytearray, memoryview)) else str(path)
    if text[:2] in ("b'", 'b"') and text[-1:] == text[1]:  # a repr of bytes, written by a reader that did str()
        text = text[2:-1]
    marker = "v1/annual/"
    if marker in text:
        return f"{annual_root}/{text.split(marker, 1)[1]}"
    if "://" in text:
        return text
    return f"{annual_root}/{text.lstrip('/')}"


def _crs_text(value: object) -> str:
    text = str(value).strip()
    return f"EPSG:{text}" if text.isdigit() else text


def _floats(table: pa.Table, column: str) -> np.ndarray:
    return np.asarray(table.column(column).to_numpy(zero_copy_only=False), dtype=np.float64)


def index_file(
    location: str | os.PathLike,
    cache: Path,
    progress: Callable[[int, int | None], None] | None = None,
    max_age_days: float = 7,
) -> Path:
    """A local copy of the index: ``location`` itself when it is a file, else fetched into ``cache`` and reused for
    ``max_age_days`` (so a newly published year shows up within a week), or longer while the mirror is unreachable."""
    text = os.fspath(location)
    if "://" not in text:
        if not os.path.isfile(text):
            raise SourceError(f"no index file at {text}")
        return Path(text)
    local = _local_copy(text, cache)
    if local.is_file() and time.time() - local.stat().st_mtime < max_age_days * 86400:
        return local
    log.info("fetching the release index from %s (kept in %s)", text, local.parent)
    try:
        data = download(text, progress=progress)
    except SourceError:
        if local.is_file():  # offline or refused: the copy we have still finds the tiles it knew
            log.warning("could not refresh the release index from %s; using the copy from before", text)
            return local
        raise
    local.parent.mkdir(parents=True, exist_ok=True)
    tmp = local.with_suffix(f".{os.getpid()}.part")
    tmp.write_bytes(data)
    os.replace(tmp, local)  # whole or not at all, so a cut download never poses as the index
    return local


def _local_copy(location: str, cache: Path) -> Path:
    name = os.path.basename(location.split("?")[0])
    return cache / "index" / f"{hashlib.sha256(location.encode()).hexdigest()[:16]}-{name}"


def known_missing(location: str, cache: Path, max_age_days: float = 7, mark: bool = False) -> bool:
    """Whether ``location`` was found missing (or unusable) within ``max_age_days``; ``mark`` records that it was.
    So a mirror without a STAC index is asked for it once a week, not at every opening."""
    marker = _local_copy(location, cache).with_suffix(".missing")
    if mark:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    return marker.is_file() and time.time() - marker.stat().st_mtime < max_age_days * 86400


def read_index(path: Path, annual_root: str, where: str) -> ReleaseIndex:
    """Parse a local index file (GeoParquet or plain Parquet, or CSV) into a ReleaseIndex."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if path.suffix.lower() == ".csv":
            from pyarrow import csv

            table = csv.read_csv(path)
        else:
            names = pq.read_schema(path).names
            if "assets" in names and "bbox" in names and "path" not in names:
                table = stac_table(pq.read_table(path, columns=[c for c in STAC_COLUMNS if c in names]), where)
            else:  # reading only the needed columns keeps a tens-of-MB index quick to load
                table = pq.read_table(path, columns=[c for c in REQUIRED_COLUMNS if c in names])
    except (pa.ArrowException, OSError) as e:
        raise SourceError(f"{where} is not a readable Parquet/CSV index: {e}") from e
    return ReleaseIndex(table, annual_root, where)
