"""Widgets only show and edit (issue 19): no module of ``aef_widgets/widgets`` imports scikit-learn or an analysis
module that fits or cross-validates models, and none fits a model or reads the source itself; that work is the
engines' (``engines/accuracy.py``, ``engines/labels.py``, ``engine.classes``), run in the background.

The model-fitting modules are found, not listed: the analysis modules that import scikit-learn at module level.
Planted snippets prove each check can fail.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.test_architecture import PACKAGE, imported_modules

WIDGETS = sorted((PACKAGE / "widgets").glob("*.py"))
#: Calls that fit a model or read embeddings from a source: what a widget hands to an engine instead.
HEAVY_CALLS = {"fit", "fit_predict", "partial_fit", "read", "sample"}


def _top_level_imports(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


def fitting_modules() -> set[tuple[str, ...]]:
    """Analysis modules that import scikit-learn at module level: where models are fitted and scored."""
    return {
        ("analysis", p.stem)
        for p in (PACKAGE / "analysis").glob("*.py")
        if "sklearn" in _top_level_imports(ast.parse(p.read_text()))
    }


def problems(source: str, here: tuple[str, ...]) -> list[str]:
    """What a widget module's text does that a widget must not: import scikit-learn or a fitting module (in any
    form, inside functions too), or call ``fit``/``read``/``sample``."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            named = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            named = [node.module or ""]
        else:
            named = []
        if any(name.split(".")[0] == "sklearn" for name in named):
            found.append(f"line {node.lineno}: imports scikit-learn")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in HEAVY_CALLS:
            found.append(f"line {node.lineno}: calls .{node.func.attr}()")
    found += [f"imports {'.'.join(m)}" for m in sorted(imported_modules(source, here) & fitting_modules())]
    return found


def test_the_fitting_modules_are_found():
    assert {("analysis", "classify"), ("analysis", "validation")} <= fitting_modules()


@pytest.mark.parametrize("module", WIDGETS, ids=lambda p: p.name)
def test_widgets_import_no_scikit_learn_and_fit_or_read_nothing(module: Path):
    assert problems(module.read_text(), ("widgets", module.stem)) == []


@pytest.mark.parametrize(
    "source",
    [
        "import sklearn",
        "def f():\n    from sklearn.model_selection import cross_val_score",
        "from ..analysis.validation import evaluate",
        "def f():\n    from ..analysis.classify import EmbeddingClassifier",
        "from aef_widgets.analysis import validation",
        "def f(model, X, y):\n    return model.fit(X, y)",
        "def f(state, aoi):\n    return state.source.read(aoi, state.year)",
        "def f(source, points):\n    return source.sample(points, 2024)",
    ],
)
def test_planted_fitting_or_reading_is_caught(source: str):
    assert problems(source, ("widgets", "classify_panel")), source
