"""Shared fixtures: the real AEF raster (read-only) and files derived from it in temporary folders."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

#: Offline Earth Engine fixtures (``ee_offline``, ``network``) for the engine and widget tests.
pytest_plugins = ["tests.earthengine_offline"]

#: Tests never reach the internet: the release's default mirror is a loopback port nobody listens on (the discard
#: port), so the sample app's "real places" check (and any release opened without a URL) is refused at once, and
#: the Voila servers of the browser tests inherit it. Tests of the release pass their own loopback URL.
os.environ.setdefault("AEF_WIDGETS_RELEASE_URL", "http://127.0.0.1:9")

REAL_DIR = Path(__file__).parent / "data" / "aef-real"
REAL_FLOAT32 = REAL_DIR / "wisconsin_2024_float32.tif"
REAL_INT8 = REAL_DIR / "wisconsin_2024_int8.tif"


@pytest.fixture(scope="session")
def real_float32() -> Path:
    return REAL_FLOAT32


@pytest.fixture(scope="session")
def real_int8() -> Path:
    return REAL_INT8


@pytest.fixture(scope="session")
def real_values() -> np.ndarray:
    """(rows, cols, 64) float64 of the real float32 file, read with plain rasterio as the reference."""
    with rasterio.open(REAL_FLOAT32) as ds:
        return np.moveaxis(ds.read().astype(np.float64), 0, -1)


def write_like(path: Path, src: Path, data: np.ndarray, **changes) -> Path:
    """Write ``data`` (bands, rows, cols) with the profile of ``src`` updated by ``changes``."""
    with rasterio.open(src) as ds:
        profile = ds.profile
        descriptions = ds.descriptions
        tags = ds.tags()
    profile.update(count=data.shape[0], height=data.shape[1], width=data.shape[2], dtype=data.dtype.name, **changes)
    with rasterio.open(path, "w", **profile) as out:
        out.write(data)
        if data.shape[0] == len(descriptions):
            out.descriptions = descriptions
        out.update_tags(**tags)
    return path


def bottom_up_copy(src: Path, dst: Path) -> Path:
    """The same pixels stored bottom-up: rows reversed, positive y pixel size, origin at the bottom-left."""
    with rasterio.open(src) as ds:
        data = ds.read()
        t = ds.transform
        bottom = t.f + t.e * ds.height
    flipped = Affine(t.a, 0, t.c, 0, -t.e, bottom)
    return write_like(dst, src, data[:, ::-1, :].copy(), transform=flipped)


@pytest.fixture
def bottom_up_int8(tmp_path: Path) -> Path:
    return bottom_up_copy(REAL_INT8, tmp_path / "bottom_up_2024.tif")


@pytest.fixture
def int8_with_hole(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """The real int8 raster with a nodata rectangle and one single nodata pixel; returns (path, hole mask)."""
    with rasterio.open(REAL_INT8) as ds:
        data = ds.read()
    hole = np.zeros(data.shape[1:], dtype=bool)
    hole[10:30, 40:70] = True
    hole[80, 5] = True
    data[:, hole] = -128
    return write_like(tmp_path / "holey_2024.tif", REAL_INT8, data), hole


def pytest_collection_modifyitems(config, items) -> None:
    """Browser tests last: Playwright keeps an event loop running in the main thread until the session ends, and
    the tests that drive a UI loop of their own must run before it starts."""
    items.sort(key=lambda item: "tests/ui/" in str(item.path).replace("\\", "/"))
