"""A real Voila server on loopback and Debian's Chromium driven by Playwright, offline.

The server runs ``notebooks/explorer.ipynb`` exactly as ``make app`` does (from ``notebooks/``, so its
``voila.json`` applies), on a free port, with the kernel on this interpreter. Every page blocks requests that leave
the machine, as on a machine without network: basemap tiles, web fonts and CDN files fail, and the app's own widgets
and overlays must render all the same. Screenshots go to ``test-artifacts/ui/``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.notebooks.kernels import write_kernelspec
from tests.ui.app import App
from tests.ui.server import serve

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "ui"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def chromium_path() -> Path:
    """``$AEF_CHROMIUM``, else Debian's Chromium; fails (never skips) when there is none."""
    path = Path(os.environ.get("AEF_CHROMIUM") or "/usr/bin/chromium")
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(
            f"the browser tests need Chromium, and {path} is not an executable: run scripts/ensure-chromium "
            "(or 'apt-get install chromium'), or set AEF_CHROMIUM to a Chromium binary",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="package")
def voila_url(artifacts: Path, tmp_path_factory, sample: Path) -> Iterator[str]:
    """URL of the explorer app served by Voila from this virtual environment, as ``make app`` serves it: one server
    for all the browser tests (they are one pytest-xdist work unit), stopped after the last of them. The session's
    shared sample exists before it starts, so no page's kernel generates it."""
    # the notebook asks for "python3": JUPYTER_PATH is searched first, so that name starts this interpreter
    jupyter_path = write_kernelspec(tmp_path_factory.mktemp("jupyter"), sys.executable, name="python3")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AEF_WIDGETS_SOURCE", "EE_", "EARTHENGINE"))}
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(jupyter_path), env.get("JUPYTER_PATH")]))
    # the kernels run in notebooks/: this checkout's package, not whichever one the environment installed
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    command = ["-m", "voila", "explorer.ipynb", "--no-browser", "--Voila.ip=127.0.0.1"]
    with serve(
        lambda port: [sys.executable, *command, f"--port={port}"],
        cwd=ROOT / "notebooks",  # as `make app`: notebooks/voila.json applies
        env=env,
        log=artifacts / "voila.log",
    ) as url:
        yield url


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Chromium for all the browser tests; Playwright runs an event loop in the main thread until this ends, so it
    ends with the browser tests (package scope) and the tests that drive a loop of their own may run after them."""
    executable = chromium_path()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextlib.contextmanager
def _offline_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    # offline: anything not served by this machine fails at once, as without a network
    context.route(
        lambda url: not url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")),
        lambda route: route.abort(),
    )
    page = context.new_page()
    # a guard against hangs, not a speed test (speed is benchmark 7's): in a loaded CI run a release kernel's first
    # view took over 60 s once, with the soak and the benchmark smoke test on the same two cores
    page.set_default_timeout(120_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with _offline_page(browser) as page:
        yield page


@pytest.fixture
def app(page: Page, voila_url: str, artifacts: Path) -> App:
    """The explorer app loaded in a fresh page (a fresh kernel), with its RGB overlay drawn."""
    return App.open(page, voila_url, artifacts)


@pytest.fixture(scope="module")
def untouched_app(browser: Browser, voila_url: str, artifacts: Path) -> Iterator[App]:
    """The explorer app as loaded, shared by the tests of a module that only look at it (never click, type, resize
    or change a widget): a kernel renders the app in about 6 CPU s, and looking twice needs one page, not two."""
    with _offline_page(browser) as page:
        yield App.open(page, voila_url, artifacts)
