"""The on-disk cache of fetched bytes: a place read before opens without the network, and the cache stays bounded."""

from __future__ import annotations

import numpy as np

from aef_widgets.core.aoi import AOI
from aef_widgets.sources import release_cache
from aef_widgets.sources.release_cache import CHUNK, FetchCache

AOI_BOTH_ZONES = AOI.from_bounds(-84.03, 43.98, -83.955, 44.02)


def test_a_second_read_makes_no_request(gcs_release):
    source = gcs_release.open()
    first = source.read(AOI_BOTH_ZONES, 2024, resolution=20)
    assert gcs_release.log.bytes_sent > 0
    gcs_release.log.reset()
    again = source.read(AOI_BOTH_ZONES, 2024, resolution=20)
    assert gcs_release.log.requests == []
    np.testing.assert_array_equal(first.values, again.values)


def test_a_new_session_reads_the_cached_place_from_disk(gcs_release):
    first = gcs_release.open().read(AOI_BOTH_ZONES, 2024)
    for cache in release_cache._caches.values():
        cache.close()  # as if the process had ended: GDAL's memory and our server are gone
    release_cache._caches.clear()
    gcs_release.log.reset()
    later = gcs_release.open()  # a new loopback server on the same folder, a new URL for GDAL
    again = later.read(AOI_BOTH_ZONES, 2024)
    assert gcs_release.log.requests == []
    np.testing.assert_array_equal(first.values, again.values)
    np.testing.assert_array_equal(first.mask, again.mask)


def test_the_cache_holds_at_most_its_size_and_forgets_the_oldest_first(gcs_release, tmp_path):
    limit = 3 * 2**20
    source = gcs_release.open(cache_dir=tmp_path / "small", cache_bytes=limit)
    west = source.read(AOI.from_bounds(-84.035, 43.98, -84.02, 44.02), 2024)
    source.read(AOI.from_bounds(-83.97, 43.98, -83.955, 44.02), 2024)
    cache: FetchCache = source.cache
    on_disk = sum(f.stat().st_size for f in cache.folder.rglob("*") if f.is_file() and f.name.isdigit())
    assert on_disk == cache.total_bytes <= limit
    assert gcs_release.log.bytes_sent > limit  # more was fetched than is kept
    gcs_release.log.reset()
    # the west read's blocks were dropped: reading it again fetches them, and gives the same values
    again = source.read(AOI.from_bounds(-84.035, 43.98, -84.02, 44.02), 2024)
    np.testing.assert_array_equal(again.values, west.values)


def test_ranges_come_back_exactly_as_the_file_has_them(gcs_release, tmp_path, release_tiles):
    path = gcs_release.file(release_tiles[0].relpath)
    data = path.read_bytes()
    cache = FetchCache(tmp_path / "bytes", max_bytes=2**30)
    try:
        url = f"{gcs_release.url}/v1/annual/{release_tiles[0].relpath}"
        end = len(data)
        for first, last in [(0, 10), (CHUNK - 5, CHUNK + 5), (3 * CHUNK, 5 * CHUNK - 1), (end - 7, end + 99)]:
            assert cache.read(url, first, last) == data[first : last + 1]
        requests = len(gcs_release.log.requests)
        assert cache.read(url, 3 * CHUNK + 1, 4 * CHUNK + 10) == data[3 * CHUNK + 1 : 4 * CHUNK + 11]  # on disk
        assert len(gcs_release.log.requests) == requests
    finally:
        cache.close()
