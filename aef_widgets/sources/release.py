"""The public Cloud-Optimized GeoTIFF release of AEF as a source: any place on Earth, any year, no account.

The index says which files lie under a read; only those are opened, over HTTP range requests (GDAL ``/vsicurl/``),
and only the blocks the read needs are fetched. ``open_release`` finds a mirror and its index (the 5 MB STAC index
where published, else ``aef_index.parquet``), fetched once and kept, and the disk cache of fetched bytes; the source
itself (grids, reads) is ``release_source.ReleaseSource``, its tiles' fetching ``release_tiles``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from ..core.errors import SourceError
from .cache_dir import cache_root
from .release_cache import DEFAULT_MAX_BYTES, shared_cache
from .release_http import DEFAULT_MIRROR, MIRRORS, STALL_SECONDS, annual_root, mirror_of
from .release_index import index_file, known_missing, read_index
from .release_source import BLOCK, MAX_FILES, RESOLUTION, ReleaseSource

__all__ = [
    "BLOCK", "INDEX_ENV", "INDEX_NAME", "MAX_FILES", "RESOLUTION", "STAC_INDEX_NAME", "URL_ENV", "ReleaseSource",
    "open_release",
]  # fmt: skip

log = logging.getLogger(__name__)

URL_ENV = "AEF_WIDGETS_RELEASE_URL"
INDEX_ENV = "AEF_WIDGETS_RELEASE_INDEX"
INDEX_NAME = "aef_index.parquet"
STAC_INDEX_NAME = "aef_index_stac_geoparquet.parquet"


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
