"""The Voila app on a shared server: a health URL that starts no kernel, and kernels without a page culled soon.

A real Voila server runs ``notebooks/explorer.ipynb`` from ``notebooks/`` (so ``voila.json`` applies, as with
``make app``), on loopback. Only the cull timings are shortened on the command line so the test takes seconds; the
rest (cull kernels with no connection, busy or not) is the shipped configuration. A kernel still rendering the page
has no connection either, so the timeout must exceed the longest first render (the explorer takes about 10 s).
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.notebooks.kernels import write_kernelspec
from tests.ui.server import serve

ROOT = Path(__file__).resolve().parents[1]
HEALTH_PATH = "voila/static/voila.js"  # a static file: answered by the server, no notebook, no kernel
#: Cull timeout in the test. A kernel rendering the page has no connection yet and (with cull_busy) is culled once
#: it has sent nothing for this long: every message on its IOPub channel (each widget it creates, each status)
#: restarts the clock (jupyter_server's ``MappingKernelManager.start_watching_activity``). The longest silence of
#: a render is the app's first import: 3.2 s measured at load average 13 on 2 cores. A mid-render cull would fail
#: the test (no widget on the page), never pass it.
CULL_S = 12
#: The most memory one visitor's kernel may take once the explorer has rendered (measured ~450-750 MB).
MAX_KERNEL_RSS_MB = 1200


def kernels(server: psutil.Process) -> list[psutil.Process]:
    """The server's live kernels: one that has just ended (gone, or a zombie not yet reaped) is not one."""
    alive = []
    for p in server.children(recursive=True):
        try:
            if "ipykernel" in " ".join(p.cmdline()):
                alive.append(p)
        except psutil.NoSuchProcess:  # ZombieProcess included: culled between listing and asking
            pass
    return alive


@pytest.fixture(scope="module")
def voila(tmp_path_factory, sample: Path) -> Iterator[tuple[str, psutil.Process, Path]]:
    """The explorer on Voila, with the shipped configuration but for a short cull timeout and no pool; the session's
    shared sample exists before the first kernel asks for it."""
    jupyter_path = write_kernelspec(tmp_path_factory.mktemp("jupyter"), sys.executable, name="python3")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AEF_WIDGETS_SOURCE", "EE_", "EARTHENGINE"))}
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(jupyter_path), env.get("JUPYTER_PATH")]))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    command = [
        sys.executable, "-m", "voila", "explorer.ipynb", "--no-browser", "--Voila.ip=127.0.0.1",
        f"--MappingKernelManager.cull_idle_timeout={CULL_S}", "--MappingKernelManager.cull_interval=1",
        # the shipped pool keeps rendered kernels on purpose (never culled, counted by benchmark 10): without it,
        # every kernel here is a visitor's, which is what the health URL and the culling are checked on
        "--VoilaConfiguration.preheat_kernel=False",
    ]  # fmt: skip
    with serve(lambda port: [*command, f"--port={port}"], cwd=ROOT / "notebooks", env=env, log=log) as url:
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        server = next(
            p for p in psutil.process_iter() if any(c.laddr.port == port for c in _listening(p))
        )  # the process listening on the port
        yield url, server, log


def _listening(process: psutil.Process) -> list:
    try:
        return [c for c in process.net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN]
    except (psutil.AccessDenied, psutil.NoSuchProcess):
        return []


def test_the_shipped_configuration_culls_disconnected_kernels_busy_or_not():
    config = json.loads((ROOT / "notebooks" / "voila.json").read_text())
    culling = config["MappingKernelManager"]
    assert 0 < culling["cull_idle_timeout"] <= 300 and culling["cull_interval"] <= 60
    assert culling["cull_connected"] is False and culling["cull_busy"] is True
    assert config["VoilaConfiguration"]["show_tracebacks"] is False
    assert config["VoilaConfiguration"]["file_allowlist"] == []


def test_the_health_url_starts_no_kernel(voila):
    url, server, log = voila
    for _ in range(3):
        with urllib.request.urlopen(url + HEALTH_PATH, timeout=30) as response:
            assert response.status == 200
    time.sleep(1)
    assert kernels(server) == [] and "Kernel started" not in log.read_text()


def test_a_page_fetched_without_a_browser_has_its_kernel_culled(voila):
    url, server, log = voila
    with urllib.request.urlopen(url, timeout=300) as response:  # what a plain curl does: the notebook runs
        page = response.read().decode()
    assert response.status == 200 and "application/vnd.jupyter.widget-view+json" in page
    (kernel,) = kernels(server)
    rss_mb = kernel.memory_info().rss / 2**20
    print(f"explorer kernel after rendering: {rss_mb:.0f} MB RSS")
    assert rss_mb < MAX_KERNEL_RSS_MB
    deadline = time.monotonic() + CULL_S + 30
    while kernels(server) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert kernels(server) == [], "the kernel of a page nobody connected to was not culled"
    said = log.read_text()
    assert "Culling kernels even if busy" in said and "with 0 connections" in said  # voila.json's rules applied
