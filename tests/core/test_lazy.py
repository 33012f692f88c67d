"""Package names load on first use: the app's first render imports neither scikit-learn nor Earth Engine nor
pyarrow nor matplotlib, and every public name still resolves to the object its module defines."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from aef_widgets.core.lazy import _lazy_imports

ROOT = Path(__file__).resolve().parents[2]
LAZY_PACKAGES = ["aef_widgets", "aef_widgets.analysis", "aef_widgets.engines", "aef_widgets.sources"]
#: Heavy imports the explorer's first render must not need (seconds and hundreds of MB between them; pyogrio
#: brings a second GDAL library of its own).
NOT_FOR_A_MAP = [
    "sklearn",
    "scipy",
    "pandas",
    "ee",
    "geemap",
    "pyarrow",
    "matplotlib",
    "geopandas",
    "pyogrio",
    "xarray",
    "exactextract",
]


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_every_public_name_resolves_to_its_module_object(name):
    package = importlib.import_module(name)
    where = _lazy_imports(Path(package.__file__).read_text(), name)
    assert set(package.__all__) <= set(where) | set(vars(package)), set(package.__all__) - set(where)
    for public in package.__all__:
        if public in where:
            module, original = where[public]
            assert getattr(package, public) is getattr(importlib.import_module(module), original), public
    assert set(package.__all__) <= set(dir(package))
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        package.not_a_name  # noqa: B018


def test_relative_levels_resolve_to_absolute_modules():
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import X\n    from ..b.c import Y as Z\n"
    assert _lazy_imports(source, "pkg.sub") == {"X": ("pkg.sub.a", "X"), "Z": ("pkg.b.c", "Y")}
    with pytest.raises(ValueError, match=r"only 'from \.\.\. import'"):
        _lazy_imports("if TYPE_CHECKING:\n    import os\n", "pkg")


def test_the_explorer_app_renders_without_scikit_learn_or_earth_engine(tmp_path):
    from aef_widgets.sources.sample import sample_dir

    sample_dir()  # generating the sample needs scipy; rendering the app must not
    code = (
        "import json, sys\n"
        "import aef_widgets\n"
        "from aef_widgets.apps import explorer_app\n"
        "explorer_app()\n"
        f"print(json.dumps([m for m in {NOT_FOR_A_MAP!r} if m in sys.modules]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []
    # and they do load when asked for: the lazy names are the real ones
    code = "import sys, aef_widgets\naef_widgets.EmbeddingClassifier\nprint('sklearn' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "True"
