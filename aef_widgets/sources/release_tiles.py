"""The release's tiles as files GDAL reads: headers read once and kept, reads whose HTTP failures are put in words.

A tile is read at its loopback URL when the disk cache is on (``release_cache``), else at the mirror's. Its header
(size, CRS, block, overviews) is read once per source and kept, at most ``MAX_HEADERS`` of them, newest last. A
read over several tiles fetches their headers side by side. A read that fails on a passing server error (5xx, a
reset, an answer cut short) is tried once more, since GDAL does not retry the ranges of a multi-range read; a
failure that stays is worded from what the cache process saw, else from GDAL's own message.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable

from rasterio.crs import CRS
from rasterio.errors import RasterioError

from ..core.errors import SourceError
from ..core.execution import scoped
from .gdal_env import forget_fetched
from .geotiff import GeoTIFFSource
from .rasterfile import RasterFile, inspect_file
from .release_cache import FetchCache
from .release_http import explain_gdal_error
from .release_index import Tile

log = logging.getLogger(__name__)
#: GDAL's words for a passing server failure: a 5xx, a reset or an answer cut short.
_TRANSIENT = re.compile(r"response_code=(?:5\d\d|0)\b|HTTP (?:response )?code:? 5\d\d|Read failed", re.IGNORECASE)
#: Tile headers kept per source (a few KB each).
MAX_HEADERS = 256


class ReleaseTiles:
    """The tiles of one release source: where GDAL reads them, their kept headers, and worded, retried reads."""

    def __init__(self, cache: FetchCache | None) -> None:
        self.cache = cache
        self._files: OrderedDict[str, RasterFile] = OrderedDict()  # tile headers already read, newest last
        self._lock = threading.Lock()

    def largest_block(self, default: int) -> int:
        """The largest block side among the headers read so far (``default`` before any)."""
        with self._lock:
            return max((f.block for f in self._files.values()), default=default)

    def gdal_path(self, tile: Tile) -> str:
        """Where GDAL reads a tile: its loopback URL when cached, else the mirror's."""
        return "/vsicurl/" + (self.cache.url_for(tile.url) if self.cache else tile.url)

    def file(self, tile: Tile) -> RasterFile:
        """A tile's header (read once per source, bounded), at its loopback URL when cached."""
        with self._lock:
            if tile.url in self._files:
                self._files.move_to_end(tile.url)
                return self._files[tile.url]
        try:
            f = inspect_file(self.gdal_path(tile), tile.year)
        except SourceError as e:
            raise SourceError(self._explain(tile.url, gdal_message(e))) from e
        if f.crs != tile_crs(tile.crs):
            raise SourceError(f"{tile.url} is in {f.crs.to_string()}, but the index says {tile.crs}")
        with self._lock:
            self._files[tile.url] = f
            while len(self._files) > MAX_HEADERS:
                self._files.popitem(last=False)
        return f

    def utm_bounds(self, tile: Tile) -> tuple[float, float, float, float]:
        """A tile's bounds in its own CRS: from the index, or from its header if the index lacks them (STAC)."""
        if all(math.isfinite(v) for v in tile.utm_bounds):
            return tile.utm_bounds
        return self.file(tile).bounds

    def run(self, tiles: list[Tile], read: Callable[[GeoTIFFSource], object], name: str):
        """``read`` on a mosaic of the tiles (a source called ``name``), with HTTP failures put in words. A read
        failing on a server error (5xx) or a short answer is tried once more: GDAL does not retry the ranges of a
        multi-range read."""
        try:
            return self._run_once(tiles, read, name)
        except SourceError as e:
            if not _TRANSIENT.search(f"{e} {gdal_message(e)}"):
                raise
            log.info("retrying a release read after %s", e)
        for t in tiles:
            forget_fetched(self.gdal_path(t))
        return self._run_once(tiles, read, name)

    def _run_once(self, tiles: list[Tile], read: Callable[[GeoTIFFSource], object], name: str):
        try:
            if len(tiles) == 1:
                files = [self.file(tiles[0])]
            else:  # each header costs a round trip or two: fetch them side by side, not one after another
                with scoped(min(8, len(tiles)), "aef-release") as pool:
                    files = list(pool.map(self.file, tiles))
            return read(GeoTIFFSource({tiles[0].year: files}, name=name))
        except (RasterioError, SourceError) as e:
            # a file source words its own read failures; the HTTP status behind them is in GDAL's original message
            if not isinstance(e, RasterioError) and not isinstance(e.__cause__, RasterioError):
                raise
            reasons = [r for t in tiles if (r := self._failure(t.url))]
            raise SourceError(reasons[0] if reasons else explain_gdal_error(tiles[0].url, gdal_message(e))) from e

    def _failure(self, url: str) -> str | None:
        return self.cache.failure(url) if self.cache else None

    def _explain(self, url: str, message: str) -> str:
        return self._failure(url) or explain_gdal_error(url, message)


def gdal_message(error: BaseException) -> str:
    """GDAL's own message behind an error (it names the HTTP status), even once a file source has worded it."""
    cause = error.__cause__
    return str(cause) if isinstance(cause, RasterioError) else str(error)


@functools.lru_cache(maxsize=128)
def tile_crs(text: str) -> CRS:
    """The CRS an index names for a tile (parsed once per distinct text)."""
    return CRS.from_user_input(text)
