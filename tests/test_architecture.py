"""The layering the README promises: data flows one way, modules stay small, the public API is complete."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import aef_widgets

PACKAGE = Path(aef_widgets.__file__).parent
#: Bottom to top. A module may import its own layer and the layers below, never above.
LAYERS = ["core", "sources", "analysis", "rendering", "engines", "widgets", "apps"]
TOP_LEVEL = {"explorer": "apps", "apps": "apps", "ee_auth": "sources", "__init__": None}


def layer_of(module: Path) -> str | None:
    parts = module.relative_to(PACKAGE).with_suffix("").parts
    if len(parts) == 1:
        return TOP_LEVEL.get(parts[0], "apps")
    return parts[0]


def imported_layers(module: Path) -> set[str]:
    tree = ast.parse(module.read_text())
    here = module.relative_to(PACKAGE).parent.parts
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(here[: len(here) - (node.level - 1)]) if node.level > 1 else list(here)
            target = [*base, *(node.module.split(".") if node.module else [])]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("aef_widgets"):
            target = node.module.split(".")[1:]
        elif isinstance(node, ast.Import):
            target = [n.name.split(".")[1] for n in node.names if n.name.startswith("aef_widgets.")][:1]
        else:
            continue
        if target:
            first = target[0]
            found.add(TOP_LEVEL.get(first, first) if first not in LAYERS else first)
    return {layer for layer in found if layer in LAYERS}


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_lower_layers_never_import_upper_ones(module):
    layer = layer_of(module)
    if layer is None:
        return
    above = {imported for imported in imported_layers(module) if LAYERS.index(imported) > LAYERS.index(layer)}
    assert not above, f"{module.relative_to(PACKAGE)} ({layer}) imports {above}"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(module):
    assert len(module.read_text().splitlines()) < 400


def test_public_api_is_exported():
    for name in aef_widgets.__all__:
        assert hasattr(aef_widgets, name), name
    for name in ["open_source", "sample_source", "Explorer", "YearPicker", "BandRGBSelector", "AOIDrawer",
                 "ClusterPanel", "SimilarityProbe", "ChangePanel"]:  # fmt: skip
        assert name in aef_widgets.__all__


def test_one_widget_per_module():
    from ipywidgets import Widget

    def is_widget(name: str) -> bool:
        obj = getattr(aef_widgets, name, None)
        return isinstance(obj, type) and issubclass(obj, Widget)

    for module in (PACKAGE / "widgets").glob("*.py"):
        tree = ast.parse(module.read_text())
        widgets = [n.name for n in tree.body if isinstance(n, ast.ClassDef) and is_widget(n.name)]
        assert len(widgets) <= 1, f"{module.name} defines {widgets}"
