"""The on-disk cache of fetched bytes: a place read before opens without the network, and the cache stays bounded."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from aef_widgets.core.aoi import AOI
from aef_widgets.sources import release_cache
from aef_widgets.sources.release_cache import CHUNK, FetchCache
from aef_widgets.sources.release_cache_server import ChunkStore
from tests.http_server import byte_ranges

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


def test_parallel_reads_of_one_chunk_fetch_it_once(gcs_release, tmp_path, release_tiles):
    """GDAL reads a tile's bands on parallel connections, and neighbouring band tiles share a 128 KiB chunk: the
    connections that ask for a chunk another is fetching wait for it (on a slow server), never fetch it again."""
    path = gcs_release.file(release_tiles[0].relpath)
    data = path.read_bytes()
    gcs_release.log.latency = 0.3  # every asker arrives while the first fetch is on its way
    cache = FetchCache(tmp_path / "bytes", max_bytes=2**30)
    try:
        url = f"{gcs_release.url}/v1/annual/{release_tiles[0].relpath}"
        asks = [(CHUNK + 7 * i, 2 * CHUNK + 100 + i) for i in range(8)]
        with ThreadPoolExecutor(len(asks)) as pool:
            answers = list(pool.map(lambda r: cache.read(url, *r), asks))
        assert answers == [data[a : b + 1] for a, b in asks]
        fetched = sorted(
            tuple(map(int, spec[6:].split("-"))) for _, spec, _ in gcs_release.log.requests if spec.startswith("bytes=")
        )
        assert all(b < c for (_, b), (c, _) in zip(fetched, fetched[1:])), f"a byte fetched twice: {fetched}"
    finally:
        cache.close()


def test_a_chunk_stored_between_a_look_and_a_claim_is_not_fetched_again(gcs_release, tmp_path, release_tiles):
    """A connection looks for its chunks on disk, then claims the missing ones to fetch. A chunk another connection
    fetched and stored in between was fetched again (CI, on a busy machine: ``bytes=524288-655359`` then
    ``bytes=524288-786431`` for two bands' overview tiles sharing a chunk). The interleaving is made here by holding
    the second connection between its look and its claim until the first has stored the chunk."""
    path = gcs_release.file(release_tiles[0].relpath)
    data = path.read_bytes()
    url = f"{gcs_release.url}/v1/annual/{release_tiles[0].relpath}"
    looked, stored = threading.Event(), threading.Event()

    class HeldStore(ChunkStore):
        def _claim(self, url, chunks):
            if threading.current_thread().name == "held":
                looked.set()
                stored.wait(30)
            return super()._claim(url, chunks)

    store = HeldStore(tmp_path / "bytes", max_bytes=2**30, timeout=30, user_agent="test")
    store.size(url)  # the file's size known (its first chunk on disk), as after GDAL opened it
    gcs_release.log.reset()
    both = (4 * CHUNK + 10, 5 * CHUNK + 10)  # chunks 4 and 5
    answer: list[bytes] = []

    def read_both() -> None:
        try:
            answer.append(store.read(url, *both))
        finally:
            store.mirror.release_connections()  # the mirror's connections are per thread

    held = threading.Thread(target=read_both, name="held")
    held.start()
    try:
        assert looked.wait(30)  # it saw chunks 4 and 5 missing
        assert store.read(url, 4 * CHUNK, 4 * CHUNK + 99) == data[4 * CHUNK : 4 * CHUNK + 100]  # chunk 4 fetched
    finally:
        stored.set()
        held.join(30)
        store.mirror.release_connections()
    assert answer == [data[both[0] : both[1] + 1]]
    assert byte_ranges(gcs_release.log.requests) == [(4 * CHUNK, 5 * CHUNK - 1), (5 * CHUNK, 6 * CHUNK - 1)]


def test_the_cache_servers_modules_import_only_the_standard_library_and_each_other():
    """The child runs them with ``python -I`` by path, without the package: any other import fails only there."""
    import ast
    import sys
    from pathlib import Path

    from aef_widgets.sources import release_cache_server

    folder = Path(release_cache_server.__file__).parent
    outside = []
    for module in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                if node.level != 1:  # a sibling of the package (``..``) is not loaded in the child
                    outside.append(f"{module.name}: {'.' * node.level}{node.module}")
                continue
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module] if isinstance(node, ast.ImportFrom) else []
            outside += [f"{module.name}: {n}" for n in names if n.split(".")[0] not in sys.stdlib_module_names]
    assert len(list(folder.glob("*.py"))) >= 4 and outside == []
