"""Shared fixtures: the real AEF raster (read-only), files derived from it in temporary folders, and the one bundled
sample of the whole run."""

from __future__ import annotations

import fcntl
import gc
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from aef_widgets.sources import sample as sample_module

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


#: Everything the bundled sample's bytes follow from: a cached copy written by other code is not the sample the
#: tests are testing, even when a change forgot to bump ``SAMPLE_VERSION``.
_PACKAGE = Path(sample_module.__file__).parents[1]
_SAMPLE_GENERATOR = [
    Path(sample_module.__file__),  # sources/sample.py: where and how the sample is written
    *sorted((_PACKAGE / "data").glob("*.py")),  # the generator, its scene, events, truth and COG writers
    _PACKAGE / "data" / "sample_classes.json",
    *(_PACKAGE / "core" / name for name in ("quantization.py", "bands.py")),
]


def sample_generator_digest() -> str:
    """SHA-256 of the files the bundled sample's bytes follow from (see ``_SAMPLE_GENERATOR``)."""
    digest = hashlib.sha256()
    for path in _SAMPLE_GENERATOR:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def sample_stamp() -> Path:
    """Beside the cached sample: the digest of the generator known to have written it (see ``sample``)."""
    return sample_module.cache_root() / f".sample-v{sample_module.SAMPLE_VERSION}.generator-sha256"


@pytest.fixture(scope="session")
def sample() -> Path:
    """The bundled sample's folder in the user cache (or ``$AEF_WIDGETS_CACHE``), generated once for the run.

    On a clean machine the first test process to get here generates it (half a minute) under a lock; the others
    (pytest-xdist workers, or other runs) wait for that copy instead of generating their own alongside. A copy
    generated here is stamped with the generator's digest (``sample_stamp``), so the tests of the generator
    (tests/sources/test_sample.py) can read it instead of generating their own, and only then.
    """
    root = sample_module.cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".sample-generation.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or when the process ends
        existed = (root / f"sample-v{sample_module.SAMPLE_VERSION}").exists()
        folder = sample_module.sample_dir()
        if not existed:
            sample_stamp().write_text(sample_generator_digest())
        return folder


_SAMPLE_API = {id(f) for f in (sample_module.sample_dir, sample_module.sample_source, sample_module.sample_truth)}


@pytest.fixture(autouse=True)
def _shared_sample(request: pytest.FixtureRequest) -> None:
    """Tests in modules that use the bundled sample (call ``sample_source``, ``sample_truth`` or ``sample_dir``
    themselves) wait for the run's shared copy first, rather than each generating one."""
    module = getattr(request.node, "module", None)
    if module is not None and any(id(v) in _SAMPLE_API for v in vars(module).values()):
        request.getfixturevalue("sample")


@pytest.fixture(autouse=True)
def _close_widgets_left_open() -> Iterator[None]:
    """Widgets a test made and left open are closed after it, as a kernel's are when it ends. ipywidgets keeps every
    open widget, and with it all it holds (a panel its state, map, products and their fields), for the life of the
    process: tests/widgets and tests/products in one process had left 33,700 widgets open and grown by 2.7 GB.
    Widgets that existed before the test (a module's shared map, say) are left as they are. A panel's ``close``
    that fails fails the test's teardown: closing is part of what a widget must do."""
    registry = sys.modules.get("ipywidgets.widgets.widget")
    before = set(registry._instances) if registry else set()
    yield
    registry = sys.modules.get("ipywidgets.widgets.widget")
    if registry is None:
        return
    made = [w for key, w in list(registry._instances.items()) if key not in before]
    for widget in sorted(made, key=_closing_rank):
        widget.close()


def _closing_rank(widget) -> int:
    """The outermost first, as a kernel's owner would close them: an Explorer (it closes its panels), then panels
    (each takes its layers off its map), then maps, then whatever is left; a panel closed after its map's layers
    would try to remove them from a map whose base layer is closed."""
    kinds = [("aef_widgets.explorer", "Explorer"), ("aef_widgets.widgets.base", "Panel"), ("ipyleaflet", "Map")]
    classes = [getattr(sys.modules.get(module), name, ()) for module, name in kinds]  # () when not imported
    return next((rank for rank, kind in enumerate(classes) if isinstance(widget, kind)), len(classes))


#: Modules and units that take longest, started first so that no worker is left with one of them at the end:
#: seconds on an idle 2-core machine, scaled from a profiled run (``--durations``). Others start after them in
#: collection order; a new slow module only needs a line here if it would end the run on its own.
_LONGEST_FIRST = {
    "tests/widgets/test_soak.py": 230,  # the 300-interaction visit alone is 190 CPU s: it must start first
    "tests/benchmarks/test_benchmarks_smoke.py": 190,
    "tests/ui": 70,
    "tests/notebooks/test_notebooks.py": 52,
    "tests/sources/test_sample.py": 45,
    "tests/test_binder.py": 40,
    "tests/widgets/test_classify_panel.py": 31,
    "tests/analysis/test_classify.py": 30,
    "tests/engines/test_dask.py": 19,
    "tests/test_readme_classification.py": 17,
    "tests/engines/test_temporal_workflows.py": 16,
    "tests/test_voila_safety.py": 16,
    "tests/widgets/test_release_widgets.py": 12,
    "tests/test_readme.py": 10,
}


def _work_unit(item: pytest.Item) -> str | None:
    """The group ``item`` must share a pytest-xdist worker with, or None when it can run on any worker.

    A test using a fixture wider than itself (module or class scope, or session scope defined in its own module)
    runs on the worker of its module's other tests, so that the fixture is built once, not once per worker. The
    browser tests are one unit: one Voila server and one Chromium (package-scoped in tests/ui/conftest.py, so they
    end, and Playwright with them, when the unit's last test has run).
    """
    path = Path(str(item.path)).resolve().relative_to(Path(__file__).resolve().parents[1]).as_posix()
    if path.startswith("tests/ui/"):
        return "tests/ui"
    for defs in item._fixtureinfo.name2fixturedefs.values():
        fixture = defs[-1]
        if fixture.scope in ("module", "class", "package") or (
            fixture.scope == "session" and fixture.baseid == item.nodeid.split("::", 1)[0]
        ):
            return path
    return None


@pytest.hookimpl(tryfirst=True)  # before ``-m`` selects by marker
def pytest_collection_modifyitems(config, items) -> None:
    """Group the tests that share an expensive fixture (see ``_work_unit``) and put the longest units first; every
    test under tests/ui is marked ``ui`` (so ``-m ui`` selects all the browser tests).

    Under pytest-xdist (``make test``) each unit goes to one worker, in this order, and every other test to
    whichever worker is free (``_UnitScheduling``); without it the order is the same and each unit's tests run in
    one block.
    """
    units = {item.nodeid: _work_unit(item) for item in items}
    for item in items:
        if units[item.nodeid] == "tests/ui":
            item.add_marker(pytest.mark.ui)
    items.sort(key=lambda item: -_LONGEST_FIRST.get(units[item.nodeid] or item.nodeid.split("::", 1)[0], 0))
    if os.environ.get(_UNITS_ENV) and hasattr(config, "workerinput"):  # a worker tells the scheduler the units
        path = Path(f"{os.environ[_UNITS_ENV]}.{config.workerinput['workerid']}")
        Path(f"{path}.tmp").write_text(json.dumps({k: v for k, v in units.items() if v}))
        Path(f"{path}.tmp").rename(path)  # whole, before this worker reports its collection to the controller


# pytest-xdist's own grouping (``--dist loadgroup``) renames test ids, which pytest 9 no longer allows; the workers
# write their units to a file instead, and the controller's scheduler reads it.
_UNITS_ENV = "AEF_TESTS_XDIST_UNITS"


#: The thread pools of this process limited for the whole run (kept referenced: the limit lasts while it lives).
_THREAD_LIMIT: list = []
#: The same limit for a child process, where a test's fixture asks for it (``one_thread_env``).
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def one_thread_env() -> dict[str, str]:
    """Variables for a child process of an xdist worker that runs on one thread itself (``pytest_configure``): the
    same reason holds for the runs it starts (the benchmark smoke test's workloads: 76 CPU s in its children
    before, 67 after). Empty otherwise."""
    return dict(ONE_THREAD) if _THREAD_LIMIT else {}


def pytest_configure(config) -> None:
    if hasattr(config, "workerinput") and config.workerinput["workercount"] >= len(os.sched_getaffinity(0)):
        # A worker per core: the run's parallelism is across workers, and BLAS's and OpenMP's threads inside each
        # (two per worker on two cores) only wait for a core, spinning: k-means on the real raster took 3.4-4.7 CPU s
        # with them and 0.4 without, with the same centres; tests/analysis used 55 CPU s and 161 s of wall at load
        # 9, and 45 and 58 at load 6 on one thread. Tests of the package's own limits raise them first
        # (tests/analysis/test_blas_threads.py). Child processes (kernels, notebooks) keep their defaults. A limit
        # holds for the libraries already loaded: SciPy's OpenBLAS and scikit-learn's OpenMP are loaded first.
        import scipy.linalg  # noqa: F401
        import sklearn.cluster  # noqa: F401
        from threadpoolctl import threadpool_limits

        _THREAD_LIMIT.append(threadpool_limits(1))
    if not hasattr(config, "workerinput") and config.getoption("numprocesses", None):  # the xdist controller
        folder = Path(tempfile.mkdtemp(prefix="aef-tests-units-"))
        os.environ[_UNITS_ENV] = str(folder / "units")  # the workers, started after this, inherit it
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


def pytest_collection_finish(session) -> None:
    """Keep what the imports and the collection made (about 250,000 objects a worker: modules, classes, test
    items) out of the garbage collector's passes, and collect the young generation less often. Sampled with perf
    over a whole run, a worker spent 7% of its CPU in Python's collector, walking those objects again at every full
    pass; over tests/widgets and tests/engines this took the collector's time from 26 to 11 CPU s (``gc.callbacks``).
    Only this process: kernels, notebooks and the soak's visitor keep Python's defaults, as users' processes do.
    Tests that need garbage gone still call ``gc.collect()``, which collects all but the frozen objects."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


#: Memory to count per worker: three workers held 5.6, 2.0 and 1.4 GiB at one moment of a run (2026-12-08, ``top``).
_WORKER_BYTES = 4 * 2**30


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config) -> int | None:
    """``-n auto``: two workers more than the cores, as far as 4 GiB of memory a worker allows. A quarter of a worker's
    time is spent waiting (for Voila kernels, Chromium, loopback servers' latency and time-outs, debounce timers),
    and more workers fill it. On 2 cores (AMD EPYC family 25, 2026-12-08, alternated runs of the same commit):
    four workers 7.1 and 8.1 minutes (765 and 869 CPU s), three 8.8 and 9.2 (912 and 934); on 2026-12-07 three
    had taken 8.5 minutes against 9.75 with two. Set ``PYTEST_XDIST_AUTO_NUM_WORKERS`` to choose (pytest-xdist's
    own rule)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # pytest-xdist's hook reads it
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return min(len(os.sched_getaffinity(0)) + 2, max(2, memory // _WORKER_BYTES))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class _UnitScheduling(LoadScopeScheduling):
        """Each work unit of ``_work_unit`` on one worker, the other tests one by one, in collection order."""

        _units: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self._units is None:
                written = sorted(Path(os.environ[_UNITS_ENV]).parent.glob("units.gw*[0-9]"))
                self._units = json.loads(written[0].read_text()) if written else {}
            return self._units.get(nodeid, nodeid)

    config.option.loadscopereorder = False  # the longest units first, as collected
    return _UnitScheduling(config, log)
