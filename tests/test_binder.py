"""The binder/ recipe, followed as Binder follows it, gives an environment that serves the app and runs the tutorials.

A fresh virtual environment gets ``pip install -r binder/requirements.txt`` from the repository root, then
``binder/postBuild`` runs there, as repo2docker does. A Jupyter server started from that environment must then
render ``voila/render/notebooks/explorer.ipynb`` (the app badge's ``urlpath``) and open JupyterLab (the tutorials
badge). Only PyPI is needed; the install takes about a minute.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from aef_widgets.sources.sample import cache_root, sample_dir
from tests.notebooks.kernels import output_text, run_notebook, write_kernelspec
from tests.ui.server import serve

ROOT = Path(__file__).resolve().parents[1]
_HIDDEN_VARS = ("EE_", "EARTHENGINE", "GOOGLE_", "CLOUDSDK_", "AEF_WIDGETS_SOURCE", "PYTHONPATH", "PYTHONHOME")


def run(command: list, *, timeout: int, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done


class BinderEnv:
    """A virtual environment built by the binder/ recipe."""

    def __init__(self, venv: Path, jupyter_path: Path) -> None:
        self.venv = venv
        self.python = venv / "bin" / "python"
        env = {k: v for k, v in os.environ.items() if not k.startswith(_HIDDEN_VARS)}
        env.update(
            PATH=os.pathsep.join([str(venv / "bin"), env.get("PATH", "")]),
            VIRTUAL_ENV=str(venv),
            # "python3" names this environment's interpreter whatever kernelspecs the machine has elsewhere
            JUPYTER_PATH=str(jupyter_path),
            AEF_WIDGETS_CACHE=str(cache_root()),
        )
        self.environ = env


@pytest.fixture(scope="module")
def binder(tmp_path_factory) -> BinderEnv:
    sample_dir()  # postBuild generates the sample; a cached one makes that instant
    folder = tmp_path_factory.mktemp("binder")
    venv = folder / "venv"
    run([sys.executable, "-m", "venv", str(venv)], timeout=120)
    env = BinderEnv(venv, write_kernelspec(folder / "jupyter", venv / "bin" / "python", name="python3"))
    run([env.python, "-m", "pip", "install", "-r", "binder/requirements.txt"], cwd=ROOT, env=env.environ, timeout=900)
    run([str(ROOT / "binder" / "postBuild")], cwd=ROOT, env=env.environ, timeout=300)
    return env


def test_the_package_is_installed_from_the_repository(binder: BinderEnv):
    done = run(
        [binder.python, "-c", "import aef_widgets, voila, jupyterlab, pandas; print(aef_widgets.__file__)"],
        env=binder.environ, cwd="/", timeout=120,
    )  # fmt: skip
    assert Path(done.stdout.strip()) == ROOT / "aef_widgets" / "__init__.py"  # editable: the launch runs this code


def test_post_build_puts_the_voila_settings_where_the_server_reads_them(binder: BinderEnv):
    placed = binder.venv / "etc" / "jupyter" / "voila.json"
    assert json.loads(placed.read_text()) == json.loads((ROOT / "notebooks" / "voila.json").read_text())
    paths = json.loads(
        run([binder.venv / "bin" / "jupyter", "--paths", "--json"], env=binder.environ, timeout=60).stdout
    )
    assert str(placed.parent) in paths["config"]


def test_the_app_badge_url_renders_the_app(binder: BinderEnv, tmp_path):
    command = [
        str(binder.venv / "bin" / "jupyter"), "server", "--no-browser", "--ServerApp.ip=127.0.0.1",
        "--IdentityProvider.token=", f"--ServerApp.root_dir={ROOT}", "--allow-root",  # CI runs as root
    ]  # fmt: skip
    with serve(
        lambda port: [*command, f"--port={port}"], cwd=ROOT, env=binder.environ, log=tmp_path / "server.log"
    ) as url:
        with urllib.request.urlopen(url + "voila/render/notebooks/explorer.ipynb", timeout=180) as response:
            page = response.read().decode()
        with urllib.request.urlopen(url + "lab", timeout=60) as lab:
            assert lab.status == 200
    assert "application/vnd.jupyter.widget-view+json" in page  # the explorer ran and its widget is on the page
    assert "There was an error" not in page and "Traceback" not in page
    assert "explorer_app" not in page  # no code shown


def test_a_tutorial_runs_there(binder: BinderEnv, tmp_path):
    nb = run_notebook(ROOT / "notebooks" / "clustering.ipynb", binder.python, tmp_path, env=binder.environ)
    assert "Widget and plain API agree: True" in output_text(nb)
