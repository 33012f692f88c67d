"""Pytest fixtures of the release on a loopback server (imported by the conftests that use them).

Two kinds of files: the miniature release of ``release_data`` (three small top-down pixel-interleaved COGs with
256 px blocks, as Earth Engine exports look), and ``release_real``'s file built like the real ones (band-separate
1024 px ZSTD tiles, bottom-up, overviews to 1 px), served from a separate process as a CDN would be.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aef_widgets.sources.release_cache import FetchCache
from tests.http_server import ServerLog, serve
from tests.release_data import LAYOUTS, TileInfo, build_release, tiles
from tests.release_real import RealFile, build_real_release, real_file, write_real_tiff


@pytest.fixture(scope="session")
def release_tiles() -> list[TileInfo]:
    return tiles(512)


@pytest.fixture(scope="session")
def release_roots(tmp_path_factory, release_tiles) -> dict[str, Path]:
    """The served folder of each mirror layout, built once per session."""
    out = {}
    for layout in LAYOUTS:
        root = tmp_path_factory.mktemp(f"release-{layout}")
        build_release(root, layout, release_tiles)
        out[layout] = root
    return out


class Release:
    """A miniature release being served: its mirror URL (the folder holding v1/annual), server log and files."""

    def __init__(self, url: str, log: ServerLog, root: Path, layout: str, cache_dir: Path) -> None:
        self.url, self.log, self.root, self.layout, self.cache_dir = url, log, root, layout, cache_dir
        self.annual = root / LAYOUTS[layout][0]

    def open(self, **options):
        from aef_widgets.sources import open_source

        options.setdefault("cache_dir", self.cache_dir)
        return open_source("release", url=self.url, **options)

    def file(self, relpath: str) -> Path:
        return self.annual / relpath


def _serve(roots, layout, tmp_path, process: bool = False) -> Iterator[Release]:
    sub = LAYOUTS[layout][0].rsplit("/v1/annual", 1)[0]
    with serve(roots[layout], process=process) as (url, log):
        yield Release(f"{url}/{sub}", log, roots[layout], layout, tmp_path / "cache")


@pytest.fixture
def gcs_release(release_roots, tmp_path) -> Iterator[Release]:
    """The top-down (Google Cloud Storage) layout on loopback, with a fresh cache folder."""
    yield from _serve(release_roots, "gcs", tmp_path)


@pytest.fixture
def coop_release(release_roots, tmp_path) -> Iterator[Release]:
    """The bottom-up (Source Cooperative) layout, a .vrt beside each file, on loopback."""
    yield from _serve(release_roots, "source-coop", tmp_path)


@pytest.fixture(scope="session")
def real_files() -> list[RealFile]:
    """One 2048 px file built like the real ones (2 x 2 tiles of 1024 px)."""
    return [real_file()]


@pytest.fixture(scope="session")
def real_roots(tmp_path_factory, real_files) -> dict[str, Path]:
    """Each mirror layout holding the realistic file (written once, copied) and every index form."""
    first = tmp_path_factory.mktemp("real-file") / "file.tiff"
    write_real_tiff(first, real_files[0])
    out = {}
    for layout in LAYOUTS:
        root = tmp_path_factory.mktemp(f"real-{layout}")
        build_real_release(root, layout, real_files, built={real_files[0].name: first})
        out[layout] = root
    return out


@pytest.fixture(params=list(LAYOUTS))
def real_release(request, real_roots, tmp_path) -> Iterator[Release]:
    """The realistic file in each mirror's layout, served by a CDN-like server in another process."""
    yield from _serve(real_roots, request.param, tmp_path, process=True)


@pytest.fixture(autouse=True)
def _close_caches(monkeypatch) -> Iterator[None]:
    """Each test's loopback caches are shut down after it (the package keeps one per folder per process)."""
    from aef_widgets.sources import release_cache

    caches: dict[Path, FetchCache] = {}
    monkeypatch.setattr(release_cache, "_caches", caches)
    yield
    for cache in caches.values():
        cache.close()
