"""The public Cloud-Optimized GeoTIFF release of AEF as a source: any place on Earth, any year, no account.

The index says which files lie under a read; only those are opened, over HTTP range requests (GDAL ``/vsicurl/``),
and only the blocks the read needs are fetched. A read's grid is in the UTM zone of its centre, on the 10 m lattice
of that zone's tiles; tiles of the zone are read directly (from overviews when coarser), tiles of neighbouring
zones are warped onto it, exactly as a ``GeoTIFFSource`` mosaic does. Where no tile lies (sea, outside coverage)
pixels are nodata. A read touching more than ``max_files`` files says "zoom in" instead of opening them all.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np
from affine import Affine
from rasterio.crs import CRS
from rasterio.errors import RasterioError
from rasterio.windows import Window

from ..core.aoi import AOI
from ..core.bands import N_BANDS
from ..core.errors import SourceError, TooManyFilesError
from ..core.execution import scoped
from ..core.field import BandField, EmbeddingField
from ..core.grid import LONLAT, Footprint, Grid, transform_bounds
from .base import ATTRIBUTION, EmbeddingSource, chunk_windows
from .cache_dir import cache_root
from .file_window import tile_lattice
from .gdal_env import forget_fetched
from .geotiff import GeoTIFFSource, chunk_side
from .rasterfile import RasterFile, inspect_file
from .release_cache import DEFAULT_MAX_BYTES, FetchCache, shared_cache
from .release_http import DEFAULT_MIRROR, MIRRORS, STALL_SECONDS, annual_root, explain_gdal_error, mirror_of
from .release_index import ReleaseIndex, Tile, index_file, known_missing, read_index

log = logging.getLogger(__name__)
#: GDAL's words for a passing server failure: a 5xx, a reset or an answer cut short.
_TRANSIENT = re.compile(r"response_code=(?:5\d\d|0)\b|HTTP (?:response )?code:? 5\d\d|Read failed", re.IGNORECASE)

URL_ENV = "AEF_WIDGETS_RELEASE_URL"
INDEX_ENV = "AEF_WIDGETS_RELEASE_INDEX"
INDEX_NAME = "aef_index.parquet"
STAC_INDEX_NAME = "aef_index_stac_geoparquet.parquet"
#: Native pixel size of the release, metres.
RESOLUTION = 10.0
#: Files one read may open; a continent-wide view would otherwise open hundreds.
MAX_FILES = 16
#: Tile side of the release's files (1024 px, band-separate); chunks are planned on the block size of the files
#: themselves once a header is read, on this before.
BLOCK = 1024


class ReleaseSource(EmbeddingSource):
    """AEF embeddings read from the public COG release over HTTPS, found through its index."""

    remote_overviews = True  # every file of the release has overviews down to 1 px

    def __init__(
        self,
        index: ReleaseIndex,
        *,
        cache: FetchCache | None = None,
        max_files: int = MAX_FILES,
        name: str | None = None,
    ) -> None:
        self.index = index
        self.cache = cache
        self.max_files = int(max_files)
        self.name = name or f"AEF public release ({index.annual_root})"
        self.attribution = ATTRIBUTION
        self._files: OrderedDict[str, RasterFile] = OrderedDict()  # tile headers already read, newest last
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ReleaseSource({self.index.annual_root!r}, years={list(self.years)}, files={len(self.index)})"

    @property
    def years(self) -> tuple[int, ...]:
        return self.index.years

    @property
    def footprint(self) -> Footprint:
        """The whole index's coverage, in lon/lat."""
        return Footprint(self.index.coverage, LONLAT)

    @property
    def resolution(self) -> float:
        return RESOLUTION

    # grids ------------------------------------------------------------------------------------------------
    def grid(self, aoi: AOI | None = None, resolution: float | None = None) -> Grid:
        """Grid over the AOI in the UTM zone of its centre, on that zone's 10 m lattice (whole multiples of it)."""
        bounds = self.index.coverage if aoi is None else tuple(map(float, aoi.bounds))
        self._check_count(bounds)
        crs, origin = self._zone_of(bounds)
        factor = 1 if resolution is None else max(1, round(resolution / RESOLUTION))
        res = RESOLUTION * factor
        if aoi is None:
            left, bottom, right, top = transform_bounds(bounds, LONLAT, crs)
        else:
            left, bottom, right, top = aoi.bounds_in(crs)
        x0, y0 = origin
        col0, col1 = math.floor((left - x0) / res + 1e-6), math.ceil((right - x0) / res - 1e-6)
        row0, row1 = math.floor((y0 - top) / res + 1e-6), math.ceil((y0 - bottom) / res - 1e-6)
        transform = Affine(res, 0, x0 + col0 * res, 0, -res, y0 - row0 * res)
        return Grid(transform, max(1, col1 - col0), max(1, row1 - row0), crs)

    def _zone_of(self, bounds: tuple[float, float, float, float]) -> tuple[CRS, tuple[float, float]]:
        """CRS and lattice origin for a read: those of a tile under the centre, else the centre's UTM zone."""
        lon, lat = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
        for year in reversed(self.years):
            tiles = self.index.lookup((lon, lat, lon, lat), year)
            if tiles:
                t = tiles[0]
                left, _, _, top = self._utm_bounds(t)
                return _crs(t.crs), (left, top)
        zone = min(60, max(1, int((lon + 180) // 6) + 1))
        return _crs(f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"), (0.0, 0.0)

    def _check_count(self, bounds: tuple[float, float, float, float]) -> None:
        n = self.index.count(bounds)
        if n > self.max_files:
            raise TooManyFilesError(
                f"this area touches {n} files of the release (the limit is {self.max_files}): zoom in, or choose a "
                "smaller area"
            )

    # reads ------------------------------------------------------------------------------------------------
    def read_window(self, grid: Grid, year: int) -> EmbeddingField:
        self.check_year(year)
        tiles = self._tiles(grid, year)
        if not tiles:  # sea or outside coverage: nodata, not an error
            values = np.full((*grid.shape, N_BANDS), np.nan, dtype=np.float32)
            return EmbeddingField(values=values, mask=np.zeros(grid.shape, dtype=bool), grid=grid, year=year)
        return self._run(tiles, lambda mosaic: mosaic.read_window(grid, year))

    def read_bands(self, grid: Grid, year: int, bands: Sequence[int]) -> BandField:
        """Only these bands' tiles are fetched: 3 of 64 for an RGB composite of the band-separate release."""
        self.check_year(year)
        bands = tuple(int(b) for b in bands)
        tiles = self._tiles(grid, year)
        if not tiles:
            values = np.full((*grid.shape, len(bands)), np.nan, dtype=np.float32)
            return BandField(values=values, mask=np.zeros(grid.shape, dtype=bool), grid=grid, bands=bands, year=year)
        return self._run(tiles, lambda mosaic: mosaic.read_bands(grid, year, bands))

    def sample(self, points: Sequence[tuple[float, float]], year: int) -> np.ndarray:
        self.check_year(year)
        lonlat = np.asarray(points, dtype=float).reshape(-1, 2)
        out = np.full((len(lonlat), N_BANDS), np.nan, dtype=np.float32)
        for i, (lon, lat) in enumerate(lonlat):
            tiles = self.index.lookup((lon, lat, lon, lat), year)
            if tiles:
                out[i] = self._run(tiles, lambda mosaic, p=(lon, lat): mosaic.sample([p], year))[0]
        return out

    def chunk_size(self, max_chunk_bytes: int) -> int:
        with self._lock:
            block = max((f.block for f in self._files.values()), default=BLOCK)
        return chunk_side(block, max_chunk_bytes)

    def chunk_windows(self, grid: Grid, max_chunk_bytes: int) -> list[Window]:
        """Chunks of whole tiles of the file under the grid's centre (its header is read for it), so a stream
        decodes each tile once; tiles of one zone share the 10 m lattice, so their tiles line up."""
        lattice = None
        bounds = grid.lonlat_bounds()
        lon, lat = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
        for year in reversed(self.years):
            tiles = [t for t in self.index.lookup((lon, lat, lon, lat), year) if _crs(t.crs) == grid.crs]
            if tiles:
                f = self._file(tiles[0])
                lattice = tile_lattice(f, grid)
                side = chunk_side(f.block, max_chunk_bytes)
                break
        else:
            side = self.chunk_size(max_chunk_bytes)
        return list(chunk_windows(grid, side, lattice or (0, 0)))

    def _tiles(self, grid: Grid, year: int) -> list[Tile]:
        """Tiles of ``year`` overlapping the grid, those in the grid's CRS first (read directly, not warped)."""
        bounds = grid.lonlat_bounds()
        self._check_count(bounds)
        tiles = [t for t in self.index.lookup(bounds, year) if _overlaps(self._utm_bounds(t), _crs(t.crs), grid)]
        return sorted(tiles, key=lambda t: _crs(t.crs) != grid.crs)

    def _run(self, tiles: list[Tile], read: Callable[[GeoTIFFSource], object]):
        """``read`` on a mosaic of the tiles, with HTTP failures put in words. A read failing on a server error
        (5xx) or a short answer is tried once more: GDAL does not retry the ranges of a multi-range read."""
        try:
            return self._run_once(tiles, read)
        except SourceError as e:
            if not _TRANSIENT.search(f"{e} {_gdal_message(e)}"):
                raise
            log.info("retrying a release read after %s", e)
        for t in tiles:
            forget_fetched(self._gdal_path(t))
        return self._run_once(tiles, read)

    def _run_once(self, tiles: list[Tile], read: Callable[[GeoTIFFSource], object]):
        try:
            if len(tiles) == 1:
                files = [self._file(tiles[0])]
            else:  # each header costs a round trip or two: fetch them side by side, not one after another
                with scoped(min(8, len(tiles)), "aef-release") as pool:
                    files = list(pool.map(self._file, tiles))
            return read(GeoTIFFSource({tiles[0].year: files}, name=self.name))
        except (RasterioError, SourceError) as e:
            # a file source words its own read failures; the HTTP status behind them is in GDAL's original message
            if not isinstance(e, RasterioError) and not isinstance(e.__cause__, RasterioError):
                raise
            reasons = [r for t in tiles if (r := self._failure(t.url))]
            raise SourceError(reasons[0] if reasons else explain_gdal_error(tiles[0].url, _gdal_message(e))) from e

    def _gdal_path(self, tile: Tile) -> str:
        """Where GDAL reads a tile: its loopback URL when cached, else the mirror's."""
        return "/vsicurl/" + (self.cache.url_for(tile.url) if self.cache else tile.url)

    def _file(self, tile: Tile) -> RasterFile:
        """A tile's header (read once per source, bounded), at its loopback URL when cached."""
        with self._lock:
            if tile.url in self._files:
                self._files.move_to_end(tile.url)
                return self._files[tile.url]
        gdal_path = self._gdal_path(tile)
        try:
            f = inspect_file(gdal_path, tile.year)
        except SourceError as e:
            raise SourceError(self._explain(tile.url, _gdal_message(e))) from e
        if f.crs != _crs(tile.crs):
            raise SourceError(f"{tile.url} is in {f.crs.to_string()}, but the index says {tile.crs}")
        with self._lock:
            self._files[tile.url] = f
            while len(self._files) > 256:
                self._files.popitem(last=False)
        return f

    def _utm_bounds(self, tile: Tile) -> tuple[float, float, float, float]:
        """A tile's bounds in its own CRS: from the index, or from its header if the index lacks them (STAC)."""
        if all(math.isfinite(v) for v in tile.utm_bounds):
            return tile.utm_bounds
        return self._file(tile).bounds

    def _failure(self, url: str) -> str | None:
        return self.cache.failure(url) if self.cache else None

    def _explain(self, url: str, message: str) -> str:
        return self._failure(url) or explain_gdal_error(url, message)


def _gdal_message(error: BaseException) -> str:
    """GDAL's own message behind an error (it names the HTTP status), even once a file source has worded it."""
    cause = error.__cause__
    return str(cause) if isinstance(cause, RasterioError) else str(error)


def open_release(
    mirror: str | None = None,
    url: str | None = None,
    index: str | os.PathLike | None = None,
    *,
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
    cache_bytes: int = DEFAULT_MAX_BYTES,
    max_files: int = MAX_FILES,
    stall_seconds: float = STALL_SECONDS,
    progress: Callable[[int, int | None], None] | None = None,
) -> ReleaseSource:
    """Open the public COG release: ``mirror`` "source-coop" (default) or "gcs", or a mirror's base ``url`` (the
    folder holding ``v1/annual``; default ``$AEF_WIDGETS_RELEASE_URL``), and the ``index`` (URL or path; default
    ``$AEF_WIDGETS_RELEASE_INDEX``, else the STAC index beside the tiles (5 MB; Google's mirror has none) or
    ``aef_index.parquet`` (70-78 MB)), fetched once and kept.

    Fetched bytes are kept in ``cache_dir`` (default: the user cache folder) up to ``cache_bytes``;
    ``cache=False`` reads straight from the mirror. A mirror silent for ``stall_seconds`` is given up on (GDAL's
    own reads use ``GDAL_HTTP_LOW_SPEED_TIME`` in ``gdal_env.GDAL_OPTIONS``).
    """
    if mirror is not None and mirror not in MIRRORS:
        raise SourceError(f"unknown mirror {mirror!r}; choose one of {', '.join(MIRRORS)}")
    base = url or (None if mirror else os.environ.get(URL_ENV)) or MIRRORS[mirror or DEFAULT_MIRROR].root
    root = annual_root(base)
    folder = cache_root(cache_dir) / "release"
    location = index or os.environ.get(INDEX_ENV)
    stac = f"{root}/{STAC_INDEX_NAME}"
    if location is None and mirror_of(root) is not MIRRORS["gcs"] and not known_missing(stac, folder):
        try:  # the STAC index: 5 MB where aef_index.parquet is 70-78 MB (only Source Cooperative publishes it)
            location = stac
            return ReleaseSource(
                read_index(index_file(location, folder, progress), root, f"the index {location}"),
                cache=shared_cache(folder / "bytes", cache_bytes, stall_seconds) if cache else None,
                max_files=max_files,
            )
        except SourceError as e:
            known_missing(stac, folder, mark=True)
            log.info("no usable STAC index at %s (%s); using %s", location, e, INDEX_NAME)
    location = location if index or os.environ.get(INDEX_ENV) else f"{root}/{INDEX_NAME}"
    local = index_file(location, folder, progress)
    source_index = read_index(local, root, f"the index {location}")
    fetch_cache = shared_cache(folder / "bytes", cache_bytes, stall_seconds) if cache else None
    return ReleaseSource(source_index, cache=fetch_cache, max_files=max_files)


@functools.lru_cache(maxsize=128)
def _crs(text: str) -> CRS:
    return CRS.from_user_input(text)


def _overlaps(utm_bounds: tuple[float, float, float, float], crs: CRS, grid: Grid) -> bool:
    """Whether a tile's own-CRS bounds meet the grid (the lon/lat look-up is a superset near zone edges)."""
    left, bottom, right, top = transform_bounds(utm_bounds, crs, grid.crs)
    g_left, g_bottom, g_right, g_top = grid.bounds
    return left < g_right and right > g_left and bottom < g_top and top > g_bottom
