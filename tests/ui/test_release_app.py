"""The app on the public release, served from a loopback mirror: a visitor with no account opens it, it draws real
release tiles at its start place, and the "go to" box moves it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyproj import Transformer

from tests.http_server import serve as serve_files
from tests.notebooks.kernels import write_kernelspec
from tests.release_data import LAYOUTS, build_release, tiles
from tests.ui.app import App
from tests.ui.conftest import ROOT
from tests.ui.server import serve


def tile_centre(tile) -> tuple[float, float]:
    rows, cols = tile.codes.shape[:2]
    x, y = tile.transform @ (cols / 2, rows / 2)
    return Transformer.from_crs(tile.crs, "EPSG:4326", always_xy=True).transform(x, y)


@pytest.fixture(scope="module")
def release_app(tmp_path_factory, artifacts: Path) -> Iterator[tuple[str, list]]:
    root, infos = tmp_path_factory.mktemp("release-app"), tiles(512)
    build_release(root, "gcs", infos)
    sub = LAYOUTS["gcs"][0].rsplit("/v1/annual", 1)[0]
    lon, lat = tile_centre(infos[0])
    with serve_files(root) as (files_url, _log):
        jupyter_path = write_kernelspec(tmp_path_factory.mktemp("jupyter"), sys.executable, name="python3")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AEF_WIDGETS_", "EE_", "EARTHENGINE"))}
        env.update(
            JUPYTER_PATH=str(jupyter_path), AEF_WIDGETS_SOURCE="release", AEF_WIDGETS_RELEASE_URL=f"{files_url}/{sub}",
            AEF_WIDGETS_CACHE=str(tmp_path_factory.mktemp("cache")), AEF_WIDGETS_START=f"{lon:.5f}, {lat:.5f}",
        )  # fmt: skip
        command = ["-m", "voila", "explorer.ipynb", "--no-browser", "--Voila.ip=127.0.0.1"]
        with serve(
            lambda port: [sys.executable, *command, f"--port={port}"], cwd=ROOT / "notebooks", env=env,
            log=artifacts / "voila-release.log",
        ) as url:  # fmt: skip
            yield url, infos


def test_the_app_opens_on_the_release_with_no_account(page, release_app, artifacts):
    url, infos = release_app
    app = App.open(page, url, artifacts)  # waits for the RGB overlay: drawn from the loopback mirror's tiles
    header = page.locator(".aef-side-panel").inner_text()
    assert "Synthetic sample" not in header and "bundled sample instead" not in page.locator("body").inner_text()
    assert app.errors_shown() == []
    # go somewhere else by coordinates: the other zone's tile (infos[-1] is the 2023 tile under the start place:
    # going there moved nothing, and the test passed only when the map's reported centre had drifted from the start)
    other = next(t for t in infos if t.zone != infos[0].zone and t.year == infos[0].year)
    lon, lat = tile_centre(other)
    before = app.overlay_src("RGB composite")
    text = page.locator(".aef-place-text input")
    text.fill(f"{lon:.5f}, {lat:.5f}")
    text.press("Enter")
    app.wait_overlay_changed("RGB composite", before)
    assert app.errors_shown() == []
    app.screenshot("09-release")
