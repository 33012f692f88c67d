"""The binder/ recipe, followed as Binder follows it, gives an environment that serves the app and runs the tutorials.

Binder installs ``binder/requirements.txt`` from the repository root into a fresh environment, then runs
``binder/postBuild`` there (repo2docker's order). A Jupyter server started from that environment must then render
``voila/render/notebooks/explorer.ipynb`` (the app badge's ``urlpath``) and open JupyterLab (the tutorials badge).

The same tests run on two builds of that environment:

- ``offline`` (always): the recipe's offline twin (``tests/binder_twin.py``) resolves every requirement against
  the distributions installed here and links only those into a fresh virtual environment; postBuild then runs in
  it. A requirement missing from this environment, a dropped one the app needs, or a broken postBuild fails.
- ``network`` (opt-in, marked ``network``: ``make test-binder``): a fresh virtual environment gets
  ``pip install -r binder/requirements.txt`` from the package index, as on Binder, which catches what offline
  cannot (a requirement whose newest release breaks the app). The install takes one to two minutes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from aef_widgets.sources.sample import cache_root
from tests.binder_twin import RecipeError, link_environment, local_project, read_requirements, resolve
from tests.notebooks.kernels import output_text, run_notebook, write_kernelspec
from tests.test_voila_late_output import OUTPUT as LATE_OUTPUT
from tests.test_voila_late_output import write_late_notebook
from tests.ui.server import serve

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "binder" / "requirements.txt"
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
            # postBuild generates the sample there; the session's shared one makes that instant
            AEF_WIDGETS_CACHE=str(cache_root()),
        )
        self.environ = env

    def jupyter(self, *args: str) -> list[str]:
        """``jupyter <args>`` on this environment's interpreter (the twin has no scripts of its own); ``jupyter
        server`` is ``python -m jupyter_server``, as the ``jupyter`` command finds ``jupyter-server`` on PATH."""
        if args and args[0] == "server":
            return [str(self.python), "-m", "jupyter_server", *args[1:]]
        return [str(self.python), "-m", "jupyter", *args]


def _new_venv(folder: Path, *, pip: bool) -> tuple[Path, Path]:
    venv = folder / "venv"
    run([sys.executable, "-m", "venv", *([] if pip else ["--without-pip"]), str(venv)], timeout=120)
    return venv, write_kernelspec(folder / "jupyter", venv / "bin" / "python", name="python3")


def offline_twin(folder: Path) -> BinderEnv:
    """The recipe's environment linked from this one's distributions, then postBuild."""
    requirements, editables = read_requirements(REQUIREMENTS, ROOT)
    projects = [local_project(path, extras) for path, extras in editables]
    for _, needs in projects:
        requirements += needs
    dists = resolve(requirements, needed_by="binder/requirements.txt")
    venv, jupyter_path = _new_venv(folder, pip=False)
    link_environment(venv, {k: v for k, v in dists.items() if k not in {n for n, _ in projects}},
                     [path for path, _ in editables])  # fmt: skip
    return BinderEnv(venv, jupyter_path)


def network_build(folder: Path) -> BinderEnv:
    """A fresh virtual environment with the recipe installed from the package index."""
    env = BinderEnv(*_new_venv(folder, pip=True))
    run([env.python, "-m", "pip", "install", "-r", REQUIREMENTS], cwd=ROOT, env=env.environ, timeout=900)
    return env


@pytest.fixture(
    scope="module", params=["offline", pytest.param("network", marks=pytest.mark.network)]
)  # fmt: skip
def binder(request, tmp_path_factory, sample: Path) -> BinderEnv:
    folder = tmp_path_factory.mktemp(f"binder-{request.param}")
    env = offline_twin(folder) if request.param == "offline" else network_build(folder)
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
    paths = json.loads(run(binder.jupyter("--paths", "--json"), env=binder.environ, timeout=60).stdout)
    assert str(placed.parent) in paths["config"]


def test_post_build_gives_the_server_s_voila_executor_the_app_s_settings(binder: BinderEnv, tmp_path):
    """As a server extension Voila takes only ``VoilaConfiguration`` from voila.json and builds its executor from the
    server's config: a cell whose output comes 6 s after its reply (``tests/test_voila_late_output.py``) is rendered
    on the badge's route all the same, which nbclient's 4 s default does not (checked there)."""
    folder = tmp_path / "root"
    folder.mkdir()
    write_late_notebook(folder)
    command = binder.jupyter(
        "server", "--no-browser", "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=",
        f"--ServerApp.root_dir={folder}", "--allow-root",
    )  # fmt: skip
    log = tmp_path / "server.log"
    server = serve(lambda port: [*command, f"--port={port}"], cwd=folder, env=binder.environ, log=log)
    with server as url, urllib.request.urlopen(url + "voila/render/late.ipynb", timeout=180) as response:
        page = response.read().decode()
    assert LATE_OUTPUT in page and "Timeout waiting for IOPub output" not in log.read_text()


def test_the_app_badge_url_renders_the_app(binder: BinderEnv, tmp_path):
    command = binder.jupyter(
        "server", "--no-browser", "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=",
        f"--ServerApp.root_dir={ROOT}", "--allow-root",  # CI runs as root
    )  # fmt: skip
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
    """The fields tutorial needs the most of the recipe: geopandas, pyogrio and exactextract for its tables, xarray,
    scikit-learn, matplotlib and the widgets (the clustering tutorial needs a subset of them)."""
    nb = run_notebook(ROOT / "notebooks" / "fields_and_points.ipynb", binder.python, tmp_path, env=binder.environ)
    assert "the tab's similarities equal the table's: True" in output_text(nb)


# The twin itself can fail: a recipe it cannot follow is an error, never a smaller environment.


def test_the_twin_refuses_a_requirement_that_is_not_installed(tmp_path):
    (tmp_path / "requirements.txt").write_text("-e .[app]\npandas>=2\nno-such-distribution-aef>=1\n")
    requirements, _ = read_requirements(tmp_path / "requirements.txt", ROOT)
    with pytest.raises(RecipeError, match=r"no-such-distribution-aef>=1 \(needed by the test\) is not installed"):
        resolve(requirements, needed_by="the test")


def test_the_twin_refuses_a_version_the_recipe_excludes_and_an_unknown_extra(tmp_path):
    with pytest.raises(RecipeError, match=r"pandas<1 \(needed by the test\) but .* is installed"):
        resolve([*read_requirements(REQUIREMENTS, ROOT)[0], *map(_req, ["pandas<1"])], needed_by="the test")
    with pytest.raises(RecipeError, match=r"no extra \['appp'\]"):
        local_project(ROOT, {"appp"})


def test_the_twin_environment_holds_only_what_the_recipe_installs(tmp_path):
    """pytest is installed here but not by the recipe: the twin cannot import it; pandas it can."""
    dists = resolve([_req("pandas>=2")], needed_by="the test")
    venv, _ = _new_venv(tmp_path, pip=False)
    link_environment(venv, dists, [])
    python = venv / "bin" / "python"
    code = "import importlib.util as u; print([u.find_spec(m) is not None for m in ('pandas', 'pytest', 'voila')])"
    assert run([python, "-c", code], cwd="/", timeout=60).stdout.strip() == "[True, False, False]"


def _req(line: str) -> Requirement:
    return Requirement(line)
