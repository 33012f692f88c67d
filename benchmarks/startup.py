"""Workload 7: the explorer app from page load to its map with the RGB overlay, in Chromium against real Voila.

Voila serves ``notebooks/explorer.ipynb`` from ``notebooks/`` with the shipped ``voila.json``, as ``make app`` does
(Binder serves it through the server extension, without the pool), with the kernel on this interpreter; headless
Chromium (Playwright) loads the page offline (requests that leave the machine fail at once, as in the UI tests).
A visitor's wait runs from ``page.goto`` to the moment the "RGB composite" overlay holds a decoded PNG. Two
visitors come one after the other (one in the smoke test), each in a fresh browser context (so a fresh kernel).
With the preheated pool the first visitor arrives once the pool is full, as on a server that has been up a while;
the run without the pool passes ``--VoilaConfiguration.preheat_kernel=False``.

Kernel memory is the resident set (VmRSS) of every kernel the server started, read from ``/proc`` once the
visitors have their map and the pool has refilled: each of them has rendered the app (a pooled kernel renders it
before anyone asks), so the largest is what a visitor costs.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .measure import ROOT, median

NOTEBOOKS = ROOT / "notebooks"
START_TIMEOUT_S = 120
#: A kernel past this resident size has imported the app (see ``_wait_for_kernels``).
RENDERED_MIB = 120
#: What the page must show before it counts as rendered: the explorer's RGB overlay as a decoded PNG.
_OVERLAY = '.aef-explorer img.leaflet-image-layer[alt="RGB composite"]'
_DRAWN_JS = (
    f"() => {{ const img = document.querySelector('{_OVERLAY}');"
    " return img && img.src.startsWith('data:image/png') && img.complete && img.naturalWidth > 0; }"
)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]  # fmt: skip


def startup(settings: Any) -> dict[str, Any]:
    """First-render seconds of two visitors and kernel RSS, with the shipped preheated pool and (full suite)
    without it."""
    from aef_widgets.sources.sample import sample_dir

    sample_dir()  # the bundled sample exists before the server starts, as after ``make app``'s first run
    runs = {"preheated": _visits(settings.visitors, preheat=True)}
    if settings.name == "full":  # a second server costs half a minute: the smaller suites keep to the target's row
        runs["no_pool"] = _visits(settings.visitors, preheat=False)
    return {"pool_size": _pool_size(), "runs": runs}


def _visits(visitors: int, *, preheat: bool) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    extra = [] if preheat else ["--VoilaConfiguration.preheat_kernel=False"]
    with _voila(extra) as (url, server):
        pool = _pool_size() if preheat else 0
        if pool:
            _wait_for_kernels(server, pool)
        with sync_playwright() as p, contextlib.ExitStack() as pages:
            browser = p.chromium.launch(executable_path=str(chromium_path()), args=CHROMIUM_ARGS)
            pages.callback(browser.close)
            # the pages stay open until the memory is read: Voila ends a kernel when its page goes
            seconds = [_visit(browser, url, pages) for _ in range(visitors)]
            _wait_for_kernels(server, pool + visitors)  # the visitors' kernels, and the pool refilled
            rss = _kernel_rss_mib(server)
    return {
        "first_visitor_s": seconds[0],
        **({"second_visitor_s": seconds[1]} if visitors > 1 else {}),
        "kernels": len(rss),
        "kernel_rss_mib": {"max": max(rss), "median": median(rss)},
    }


def _visit(browser: Any, url: str, pages: contextlib.ExitStack) -> float:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pages.callback(context.close)
    context.route(
        lambda u: not u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")),
        lambda route: route.abort(),
    )
    page = context.new_page()
    page.set_default_timeout(START_TIMEOUT_S * 1000)
    start = time.perf_counter()
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_function(_DRAWN_JS, polling=50)
    return time.perf_counter() - start


def chromium_path() -> Path:
    """``$AEF_CHROMIUM``, else Debian's Chromium (as the UI tests)."""
    path = Path(os.environ.get("AEF_CHROMIUM") or "/usr/bin/chromium")
    if not path.is_file():
        raise RuntimeError(f"the startup benchmark needs Chromium: {path} is missing (run scripts/ensure-chromium)")
    return path


def _pool_size() -> int:
    config = json.loads((NOTEBOOKS / "voila.json").read_text()).get("VoilaConfiguration", {})
    return int(config.get("default_pool_size", 1)) if config.get("preheat_kernel") else 0


@contextlib.contextmanager
def _voila(extra: list[str]) -> Iterator[tuple[str, subprocess.Popen]]:
    """Voila on a free loopback port, its kernels on this interpreter; ended with everything it started."""
    with tempfile.TemporaryDirectory(prefix="aef-bench-voila-") as tmp:
        spec = Path(tmp) / "kernels" / "python3"
        spec.mkdir(parents=True)
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "bench", "language": "python"}))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AEF_WIDGETS_SOURCE", "EE_", "EARTHENGINE"))}
        env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [tmp, env.get("JUPYTER_PATH")]))
        # the kernels run in notebooks/: this checkout's package, not whichever one the environment installed
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        port = _free_port()
        command = [sys.executable, "-m", "voila", "explorer.ipynb", "--no-browser", "--Voila.ip=127.0.0.1",
                   f"--port={port}", *extra]  # fmt: skip
        with open(Path(tmp) / "voila.log", "w") as log:
            server = subprocess.Popen(
                command, cwd=NOTEBOOKS, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            _wait_for_port(port, server, Path(tmp) / "voila.log")
            yield f"http://127.0.0.1:{port}/", server
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(server.pid, signal.SIGKILL)
                server.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"voila exited with code {server.returncode}:\n{log.read_text()[-3000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"voila did not listen on port {port} within {START_TIMEOUT_S} s")


def _kernels(server: subprocess.Popen) -> list[int]:
    """Process ids of the ipykernels the server started (its children running ``ipykernel_launcher``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            if ppid == server.pid and b"ipykernel_launcher" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
    return found


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _kernel_rss_mib(server: subprocess.Popen) -> list[float]:
    return [_rss_mib(pid) for pid in _kernels(server)]


def _cpu_s(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _wait_for_kernels(server: subprocess.Popen, count: int) -> None:
    """Wait until ``count`` kernels run and each has rendered the app: it holds the app's imports (a bare kernel is
    50-70 MiB, the app's imports alone take it past 120) and now sits idle (under 20 ms of CPU in the last second);
    a pooled kernel renders as soon as it starts."""
    deadline = time.monotonic() + START_TIMEOUT_S
    last: dict[int, float] = {}
    while time.monotonic() < deadline:
        now = {}
        with contextlib.suppress(OSError):
            now = {pid: _cpu_s(pid) for pid in _kernels(server)}
        with contextlib.suppress(OSError):
            idle = [p for p, cpu in now.items() if p in last and cpu - last[p] < 0.02 and _rss_mib(p) > RENDERED_MIB]
            if len(idle) >= count:
                return
        last = now
        time.sleep(1.0)
    raise RuntimeError(f"the server did not have {count} rendered kernels within {START_TIMEOUT_S} s")
