"""A page whose kernel's output reaches Voila seconds after the kernel has replied still shows that output.

Voila runs a notebook with nbclient: once a cell's ``execute_reply`` arrives on the shell channel, nbclient waits at
most ``iopub_timeout`` seconds (4 by default) for the rest of the cell's messages on IOPub, then logs "Timeout
waiting for IOPub output" and renders the cell with the outputs it has, none if its display was still queued. The
explorer's cell sent about 720 widget messages before its output (now about 690); on a busy machine Voila had not
read them all 4 s after the reply, so the page came out blank and stayed blank (1 page load in 12 with both cores
busy, the warning in Voila's log; a CI run failed the same way, waiting for the app's panel). The shipped
``voila.json`` gives the executor 60 s; the wait ends as soon as the cell's last message comes, so it costs nothing
on a quiet machine.

The lag is made without load, the same way every time: the cell holds the kernel's IOPub thread for 6 s and lets the
kernel's own flush give up after 0.1 s (``OutStream.flush_timeout``), so the reply goes out at once and the display,
queued on IOPub, comes 6 s later. Voila serves it from the shipped configuration, preheated pool and all.
"""

from __future__ import annotations

import os
import shutil
import sys
import urllib.request
from pathlib import Path

import nbformat

from tests.notebooks.kernels import write_kernelspec
from tests.ui.server import serve

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = "the cell output arrived"
LATE_CELL = f"""\
import sys, time
from IPython.display import HTML
sys.stdout.flush_timeout = sys.stderr.flush_timeout = 0.1  # the reply does not wait for IOPub
get_ipython().kernel.iopub_thread.schedule(lambda: time.sleep(6))  # IOPub sends nothing for 6 s
HTML('<p>{OUTPUT}</p>')
"""


def write_late_notebook(folder: Path) -> Path:
    """``folder/late.ipynb``: the late cell alone, run by the kernel named "python3"."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(LATE_CELL)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "late.ipynb")
    return folder / "late.ipynb"


def _page(tmp_path: Path, *flags: str) -> tuple[str, str]:
    """The page Voila serves for the late cell (from a folder holding the shipped ``voila.json``), and its log."""
    folder = tmp_path / "app"
    folder.mkdir()
    shutil.copy(ROOT / "notebooks" / "voila.json", folder / "voila.json")
    write_late_notebook(folder)
    jupyter_path = write_kernelspec(tmp_path / "jupyter", sys.executable, name="python3")
    env = {**os.environ, "JUPYTER_PATH": str(jupyter_path)}
    log = tmp_path / "voila.log"
    command = [sys.executable, "-m", "voila", "late.ipynb", "--no-browser", "--Voila.ip=127.0.0.1", *flags]
    server = serve(lambda port: [*command, f"--port={port}"], cwd=folder, env=env, log=log)
    with server as url, urllib.request.urlopen(url, timeout=120) as response:
        page = response.read().decode()
    return page, log.read_text()


def test_output_that_comes_late_is_still_on_the_page(tmp_path):
    page, log = _page(tmp_path)
    assert OUTPUT in page, "the shipped voila.json lets nbclient drop a cell's output that reaches Voila late"
    assert "Timeout waiting for IOPub output" not in log


def test_without_the_setting_the_same_page_is_blank(tmp_path):
    """The twin that shows the lag above is real: with nbclient's default (4 s) the output is dropped. Without the
    pool (one kernel, not three), as the executor is the same either way."""
    page, log = _page(tmp_path, "--VoilaExecutor.iopub_timeout=4", "--VoilaConfiguration.preheat_kernel=False")
    assert OUTPUT not in page and "Timeout waiting for IOPub output" in log
