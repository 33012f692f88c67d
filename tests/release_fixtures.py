"""Pytest fixtures of the release on a loopback server (imported by the conftests that use them).

Two kinds of files: the miniature release of ``release_data`` (three small top-down pixel-interleaved COGs with
256 px blocks, as Earth Engine exports look), and ``release_real``'s file built like the real ones (band-separate
1024 px ZSTD tiles, bottom-up, overviews to 1 px), served from a separate process as a CDN would be.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from aef_widgets.sources.release_cache import FetchCache
from tests.http_server import ServerLog, serve
from tests.release_data import LAYOUTS, TileInfo, build_release, tiles
from tests.release_real import RealFile, build_real_release, real_file, write_real_tiff


def run_shared(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """A folder ``build`` fills once per test run, whichever pytest-xdist worker gets here first; the others wait
    for it under a lock and read the same files.

    It lies in the run's own temporary folder (the parent of the workers' ones under xdist), never in a fixed path
    that two concurrent runs could share. Served files are only read, so sharing them changes no test.
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # pytest-<n> of this run, holding popen-gw0, popen-gw1, ...
    folder, done = base / name, base / f".{name}.complete"
    with (base / f".{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or when the process ends
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)  # a worker that died half-way
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


@pytest.fixture(scope="session")
def release_tiles() -> list[TileInfo]:
    return tiles(512)


@pytest.fixture(scope="session")
def release_roots(tmp_path_factory, release_tiles) -> dict[str, Path]:
    """The served folder of each mirror layout, built once per run."""

    def build(folder: Path) -> None:
        for layout in LAYOUTS:
            build_release(folder / f"release-{layout}", layout, release_tiles)

    folder = run_shared(tmp_path_factory, "release-roots", build)
    return {layout: folder / f"release-{layout}" for layout in LAYOUTS}


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


def _real_release_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The realistic file's codes, the file, and each mirror layout holding it (written once, copied) with every
    index form, built once per run (25 s of CPU)."""

    def build(folder: Path) -> None:
        f = real_file()
        np.save(folder / "codes.npy", f.codes)
        first = folder / "real-file" / "file.tiff"
        first.parent.mkdir()
        write_real_tiff(first, f)
        for layout in LAYOUTS:
            build_real_release(folder / f"real-{layout}", layout, [f], built={f.name: first})

    return run_shared(tmp_path_factory, "real-release", build)


@pytest.fixture(scope="session")
def real_files(tmp_path_factory) -> list[RealFile]:
    """One 2048 px file built like the real ones (2 x 2 tiles of 1024 px)."""
    return [real_file(codes=np.load(_real_release_folder(tmp_path_factory) / "codes.npy"))]


@pytest.fixture(scope="session")
def real_roots(tmp_path_factory, real_files) -> dict[str, Path]:
    """Each mirror layout holding the realistic file and every index form."""
    return {layout: _real_release_folder(tmp_path_factory) / f"real-{layout}" for layout in LAYOUTS}


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
