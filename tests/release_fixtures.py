"""Pytest fixtures of the miniature release on a loopback server (imported by the conftests that use them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aef_widgets.sources.release_cache import FetchCache
from tests.http_server import ServerLog, serve
from tests.release_data import LAYOUTS, TileInfo, build_release, tiles


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


def _serve(roots, layout, tmp_path) -> Iterator[Release]:
    sub = LAYOUTS[layout][0].rsplit("/v1/annual", 1)[0]
    with serve(roots[layout]) as (url, log):
        yield Release(f"{url}/{sub}", log, roots[layout], layout, tmp_path / "cache")


@pytest.fixture
def gcs_release(release_roots, tmp_path) -> Iterator[Release]:
    """The top-down (Google Cloud Storage) layout on loopback, with a fresh cache folder."""
    yield from _serve(release_roots, "gcs", tmp_path)


@pytest.fixture
def coop_release(release_roots, tmp_path) -> Iterator[Release]:
    """The bottom-up (Source Cooperative) layout, a .vrt beside each file, on loopback."""
    yield from _serve(release_roots, "source-coop", tmp_path)


@pytest.fixture(autouse=True)
def _close_caches(monkeypatch) -> Iterator[None]:
    """Each test's loopback caches are shut down after it (the package keeps one per folder per process)."""
    from aef_widgets.sources import release_cache

    caches: dict[Path, FetchCache] = {}
    monkeypatch.setattr(release_cache, "_caches", caches)
    yield
    for cache in caches.values():
        cache.close()
