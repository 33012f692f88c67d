"""The layering the README promises: data flows one way, modules stay small, the public API is complete.

Imports are resolved in every form Python allows: ``import aef_widgets.x``, ``from aef_widgets.x import y``,
``from aef_widgets import Name`` (followed through the package's re-exports to the module that defines it),
relative imports at any depth including ``from .. import module``, and imports inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import aef_widgets

PACKAGE = Path(aef_widgets.__file__).parent
#: Bottom to top. A module may import its own layer and the layers below, never above.
LAYERS = ["core", "data", "sources", "analysis", "rendering", "engines", "products", "widgets", "apps"]
TOP_LEVEL = {"explorer": "apps", "apps": "apps", "ee_auth": "sources", "__init__": None}
#: Modules of the widgets layer that are not widgets: what widgets share (state, flow, jobs, the layer stack).
WIDGET_INFRASTRUCTURE = {
    "__init__", "base", "flow", "jobs", "layer_stack", "map_view", "state", "ui_loop", "exports", "thresholded_layers",
    "classify_accuracy", "classify_model", "label_edits", "label_marks", "draw_tool", "lifecycle", "year_chart",
}  # fmt: skip
#: Widgets that are parts of one panel (widgets of their own, composed by it): only that panel may import them.
PANEL_PARTS = {
    "class_editor": "classify_panel",
    "label_picker": "classify_panel",
    "search_wider": "similarity_probe",
    "field_trajectory": "fields_panel",
}


def module_parts(module: Path) -> tuple[str, ...]:
    return module.relative_to(PACKAGE).with_suffix("").parts


def layer_of_parts(parts: tuple[str, ...] | list[str]) -> str | None:
    if not parts:
        return None
    if len(parts) == 1:
        return TOP_LEVEL.get(parts[0], "apps") if parts[0] not in LAYERS else parts[0]
    return parts[0]


def reexports(package_parts: tuple[str, ...]) -> dict[str, list[str]]:
    """Names a package's ``__init__`` re-exports, mapped to the module parts they come from."""
    init = PACKAGE.joinpath(*package_parts, "__init__.py")
    if not init.exists():
        return {}
    found = {}
    body = ast.parse(init.read_text()).body
    # lazy re-exports (aef_widgets.core.lazy) are the imports under ``if TYPE_CHECKING:``
    lazy = [n for node in body if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
            for n in node.body]  # fmt: skip
    for node in [*body, *lazy]:
        if isinstance(node, ast.ImportFrom):
            target = resolve_from(node, (*package_parts, "__init__"))
            for alias in node.names:
                found[alias.asname or alias.name] = target
    return found


def resolve_from(node: ast.ImportFrom, here: tuple[str, ...]) -> list[str]:
    """Module parts (inside the package) an ``ImportFrom`` reads from; [] for other packages."""
    if node.level:
        base = list(here[:-1])[: len(here) - node.level]
        return [*base, *(node.module.split(".") if node.module else [])]
    if node.module and (node.module == "aef_widgets" or node.module.startswith("aef_widgets.")):
        return node.module.split(".")[1:]
    return ["<outside>"]


def imported_modules(source: str, here: tuple[str, ...]) -> set[tuple[str, ...]]:
    """Every module of the package that ``source`` (the module at ``here``) imports, in any form."""
    found: set[tuple[str, ...]] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("aef_widgets."):
                    found.add(tuple(alias.name.split(".")[1:]))
        elif isinstance(node, ast.ImportFrom):
            target = resolve_from(node, here)
            if target == ["<outside>"]:
                continue
            package = PACKAGE.joinpath(*target)
            for alias in node.names:
                if (package.is_dir() and (package / f"{alias.name}.py").exists()) or (package / alias.name).is_dir():
                    found.add((*target, alias.name))  # a submodule: "from .. import explorer"
                elif package.is_dir() and alias.name in reexports(tuple(target)):
                    found.add(tuple(reexports(tuple(target))[alias.name]))  # followed to where it is defined
                else:
                    found.add(tuple(target))
    return {m for m in found if m}


def violations(source: str, here: tuple[str, ...]) -> list[str]:
    """What a module at ``here`` with text ``source`` breaks: imports from above its layer, or of another widget."""
    layer = layer_of_parts(here) if here[-1] != "__init__" or len(here) > 1 else None
    problems = []
    for target in sorted(imported_modules(source, here)):
        target_layer = layer_of_parts(target[:-1] if target[-1] == "__init__" else target)
        if layer is not None and target_layer in LAYERS and LAYERS.index(target_layer) > LAYERS.index(layer):
            problems.append(f"{'.'.join(here)} ({layer}) imports {'.'.join(target)} ({target_layer})")
        is_widget = lambda parts: len(parts) == 2 and parts[0] == "widgets" and parts[1] not in WIDGET_INFRASTRUCTURE  # noqa: E731
        if is_widget(here) and is_widget(target) and target != here and PANEL_PARTS.get(target[1]) != here[1]:
            problems.append(f"widget module {'.'.join(here)} imports widget module {'.'.join(target)}")
    return problems


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_lower_layers_never_import_upper_ones_and_widgets_never_import_each_other(module):
    assert violations(module.read_text(), module_parts(module)) == []


@pytest.mark.parametrize(
    ("here", "source"),
    [
        (("core", "aoi"), "from aef_widgets import SimilarityProbe"),  # a package-level re-export
        (("core", "aoi"), "from .. import explorer"),  # a relative import of a module
        (("core", "aoi"), "def f():\n    from ..widgets.state import ExplorerState"),  # inside a function
        (("core", "aoi"), "import aef_widgets.engines.local"),
        (("sources", "base"), "from ..analysis import k_means"),
        (("analysis", "kmeans"), "from aef_widgets.rendering import colors"),
        (("widgets", "cluster_panel"), "from .similarity_probe import SimilarityProbe"),  # widget to widget
        (("widgets", "cluster_panel"), "from . import aoi_drawer"),
        (("widgets", "cluster_panel"), "from aef_widgets.widgets import YearPicker"),
        (("widgets", "cluster_panel"), "from .label_picker import LabelPicker"),  # a part of another panel
    ],
)
def test_planted_violations_are_caught(here, source):
    assert violations(source, here), f"{source!r} in {'.'.join(here)} went unnoticed"


def test_allowed_imports_pass():
    assert violations("from ..core.aoi import AOI\nimport numpy", ("widgets", "cluster_panel")) == []
    assert violations("from .base import Panel\nfrom .flow import Flow", ("widgets", "cluster_panel")) == []
    assert violations("from .label_picker import LabelPicker", ("widgets", "classify_panel")) == []
    assert violations("from aef_widgets import AOI", ("sources", "base")) == []


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


# ---- import circles ----------------------------------------------------------------------------------------------


def _normalise(parts: tuple[str, ...]) -> tuple[str, ...]:
    """A package's parts name its ``__init__``."""
    return (*parts, "__init__") if PACKAGE.joinpath(*parts).is_dir() else parts


def import_graph(sources: dict[tuple[str, ...], str] | None = None) -> dict[tuple[str, ...], set[tuple[str, ...]]]:
    """module parts -> module parts it imports (inside the package, any form); of ``sources`` (parts -> text)
    when given, else of the package's files."""
    if sources is None:
        sources = {module_parts(p): p.read_text() for p in sorted(PACKAGE.rglob("*.py"))}
    return {here: {_normalise(t) for t in imported_modules(text, here)} - {here} for here, text in sources.items()}


def package_of(parts: tuple[str, ...]) -> str:
    return ".".join(parts[:-1]) or "<top>"


def strongly_connected(graph: dict) -> list[list]:
    """Tarjan's algorithm (iterative): every component of more than one node, each sorted."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]

    def visit(root) -> None:
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def circles_inside_packages(graph: dict) -> list[list[str]]:
    """Import circles whose modules all belong to one package (edges between packages are the layers' business)."""
    inside = {m: {t for t in targets if package_of(t) == package_of(m) and t in graph} for m, targets in graph.items()}
    return [[".".join(m) for m in c] for c in strongly_connected(inside)]


def test_no_import_circle_inside_a_package():
    """Modules of one package never import each other in a circle, at module level, in functions, or for types
    only: a circle hidden behind a function-level import is a design that doubles back (issue 19)."""
    assert [" <-> ".join(c) for c in circles_inside_packages(import_graph())] == []


def test_a_planted_circle_is_caught_in_every_import_form():
    sources = {
        ("engines", "a"): "from .b import B",
        ("engines", "b"): "def f():\n    from .c import C",  # function level
        (
            "engines",
            "c",
        ): "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from aef_widgets.engines.a import A",
        ("engines", "d"): "from .a import A",  # leads into the circle, is not part of it
        ("widgets", "x"): "from ..engines.a import A",  # another package
    }
    assert circles_inside_packages(import_graph(sources)) == [["engines.a", "engines.b", "engines.c"]]
    sources[("engines", "c")] = "import numpy"
    assert circles_inside_packages(import_graph(sources)) == []


# ---- threads ---------------------------------------------------------------------------------------------------
THREAD_MAKERS = {"ThreadPoolExecutor", "ProcessPoolExecutor", "Thread", "Timer"}
#: Where threads may be created: the execution module, and the release cache's server, a child process's script
#: run with ``python -I`` (standard library only: it cannot import the package).
THREAD_MODULES = {"core/execution.py", "sources/release_cache_server/handler.py"}


def thread_sites(sources: dict[str, str] | None = None) -> list[str]:
    """``module:line Name`` of every call that creates a thread or a pool, of ``sources`` (path -> text) or the
    package's files."""
    if sources is None:
        sources = {str(p.relative_to(PACKAGE)): p.read_text() for p in sorted(PACKAGE.rglob("*.py"))}
    out = []
    for path, text in sources.items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in THREAD_MAKERS:
                    out.append(f"{path}:{node.lineno} {name}")
    return out


def test_threads_and_pools_are_created_only_in_the_execution_module():
    elsewhere = [s for s in thread_sites() if s.split(":")[0] not in THREAD_MODULES]
    assert elsewhere == [], "create threads and pools with aef_widgets.core.execution"


def test_planted_thread_sites_are_caught():
    planted = {
        "a.py": "import threading\nthreading.Thread(target=print).start()",
        "b.py": "from concurrent.futures import ProcessPoolExecutor\nwith ProcessPoolExecutor() as pool: pass",
        "c.py": "from threading import Timer\nTimer(1, print).start()",
    }
    assert [s.split(":")[0] for s in thread_sites(planted)] == ["a.py", "b.py", "c.py"]
