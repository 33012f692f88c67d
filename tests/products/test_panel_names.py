"""Every node and layer kind a panel names is declared (``aef_widgets.products``), checked statically.

The widgets' modules are parsed, not run: every ``Computed``, ``ProductLayer`` and ``ThresholdedLayers`` a panel
builds, every ``slot`` (or ``layer_slot``) it asks the layer stack for, every ``bring_to_top`` and every call on the
flow (``flow.key``, ``flow.set``, ``flow.is_current``, ``flow.on``, ``flow.values.get``, ``flow.keys[...]``). A name
is a string literal, or a declaration imported from ``aef_widgets.products`` (``SIMILARITY.values.name``), which is
evaluated. Names held in variables (a ``ProductLayer`` passing on its own node) are the callers' literals, checked
there.
"""

from __future__ import annotations

import ast
import importlib
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

import aef_widgets
from aef_widgets.products.declare import Draw, Kind, Node
from aef_widgets.products.registry import graph, layer_kinds
from aef_widgets.products.threshold import Thresholded, threshold_family

PACKAGE = Path(aef_widgets.__file__).parent
PANEL_MODULES = sorted([*(PACKAGE / "widgets").glob("*.py"), PACKAGE / "explorer.py"])
#: Which arguments of which calls are node names (n), layer kinds (k) or stacked families (f), by position.
CALLS = {
    "Computed": {1: "n"},
    "ProductLayer": {1: "n", 2: "n", 4: "k"},
    "ThresholdedLayers": {1: "n", 3: "n", 5: "k"},
    "slot": {1: "k"},
    "layer_slot": {1: "k"},  # Panel.layer_slot(name, kind): a slot its close takes off the map
    "bring_to_top": {0: "f"},
}
FLOW_METHODS = {"key", "set", "is_current", "on", "off"}
WHAT = {"n": "node", "k": "layer kind", "f": "layer family"}


@dataclass(frozen=True)
class Named:
    path: str
    line: int
    what: str  # "n", "k", "f"
    name: str


def declared(what: str) -> set[str]:
    return {"n": set(graph()), "k": set(layer_kinds()), "f": set(layer_kinds().values())}[what]


def _imports(tree: ast.Module, module: str) -> dict[str, object]:
    """Names imported from ``aef_widgets.products`` in a module, with their values."""
    found: dict[str, object] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            target = node.module
            if node.level:
                base = module.split(".")[: -node.level]
                target = ".".join([*base, node.module])
            if target.startswith("aef_widgets.products"):
                imported = importlib.import_module(target)
                for alias in node.names:
                    found[alias.asname or alias.name] = getattr(imported, alias.name)
    return found


def _value(expr: ast.expr, imported: dict[str, object]) -> object | None:
    """The value of a literal or of an attribute chain on a declaration; None when it is a variable."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.Tuple):
        return tuple(_value(e, imported) for e in expr.elts)
    chain = []
    while isinstance(expr, ast.Attribute):
        chain.append(expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name) and expr.id in imported:
        value = imported[expr.id]
        for attr in reversed(chain):
            value = getattr(value, attr)
        return value
    return None


def _names(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (Node, Draw, Kind)):
        return [value.name]
    if isinstance(value, tuple):
        return [n for v in value for n in _names(v)]
    return []


def _is_flow(expr: ast.expr) -> bool:
    return (isinstance(expr, ast.Attribute) and expr.attr == "flow") or (
        isinstance(expr, ast.Name) and expr.id == "flow"
    )


def named_in(source: str, path: str, module: str) -> list[Named]:
    """Every node, layer kind and stacked family the source names, with where."""
    tree = ast.parse(source)
    imported = _imports(tree, module)
    found: list[Named] = []

    def add(expr: ast.expr, what: str) -> None:
        value = _value(expr, imported)
        if isinstance(value, Thresholded):  # a whole thresholded family: its nodes and kinds
            found.extend(Named(path, expr.lineno, "n", n.name) for n in value.nodes)
            found.extend(Named(path, expr.lineno, "k", k.name) for k in value.kinds)
            return
        found.extend(Named(path, expr.lineno, what, n) for n in _names(value))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in CALLS:
                for position, what in CALLS[name].items():
                    if position < len(node.args):
                        add(node.args[position], what)
            if isinstance(func, ast.Attribute) and func.attr == "declared":  # ThresholdedLayers.declared(panel, INDEX)
                for arg in node.args:
                    if isinstance(_value(arg, imported), Thresholded):
                        add(arg, "n")
            if isinstance(func, ast.Attribute) and func.attr in FLOW_METHODS and _is_flow(func.value) and node.args:
                add(node.args[0], "n")
            if (
                isinstance(func, ast.Attribute) and func.attr == "get" and isinstance(func.value, ast.Attribute)
                and func.value.attr in ("values", "keys") and _is_flow(func.value.value) and node.args
            ):  # fmt: skip
                add(node.args[0], "n")
        elif (
            isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute)
            and node.value.attr in ("values", "keys") and _is_flow(node.value.value)
        ):  # fmt: skip
            add(node.slice, "n")
    return found


def undeclared(found: list[Named]) -> list[str]:
    return [f"{n.path}:{n.line} names {WHAT[n.what]} {n.name!r}" for n in found if n.name not in declared(n.what)]


def scan() -> list[Named]:
    found = []
    for path in PANEL_MODULES:
        module = ".".join(("aef_widgets", *path.relative_to(PACKAGE).with_suffix("").parts))
        found.extend(named_in(path.read_text(), path.name, module))
    return found


def test_every_node_and_layer_kind_a_panel_names_is_declared():
    assert undeclared(scan()) == []


def test_every_declared_node_and_kind_is_named_by_a_panel():
    """The other way round: the scan sees every declaration in use, so it reads the panels' calls (and no
    declaration is left behind by a panel that no longer shows it)."""
    found = scan()
    for what in ("n", "k"):
        assert declared(what) - {n.name for n in found if n.what == what} == set(), WHAT[what]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('Computed(self, "similarty", prepare, show)', "node 'similarty'"),
        ('ProductLayer(self, "clusters layer", "cluster", "Clusters", "clusters")', "node 'cluster'"),
        ('ProductLayer(self, "clusters layer", "clusters", "Clusters", "clusterz")', "layer kind 'clusterz'"),
        (
            'ThresholdedLayers(self, "change", "change_threshold", ("change layer", "changed layer", "change area"),'
            ' ("Change", "Changed"), ("change", "changed"), label="x")',
            "node 'change area'",
        ),
        ('stack.slot("References", "probe")', "layer kind 'probe'"),
        ('self.flow.key("trajectories")', "node 'trajectories'"),
        ('self.flow.values.get("similarity layers")', "node 'similarity layers'"),
        ('self.flow.keys["clasess"]', "node 'clasess'"),
        ('self.layer_stack().bring_to_top("similarities")', "layer family 'similarities'"),
    ],
)
def test_a_planted_undeclared_name_is_caught(source, expected):
    found = named_in(source, "planted.py", "aef_widgets.widgets.planted")
    assert [message.split(" names ", 1)[1] for message in undeclared(found)] == [expected]


def test_a_declaration_that_is_not_registered_is_caught(monkeypatch):
    """A family module a panel imports but the registry does not list: the flow would not know its nodes."""
    planted = types.ModuleType("aef_widgets.products.planted")
    planted.NEW = threshold_family(
        "new", ("source", "year"), threshold="new_threshold", values=("new layer", "New", "new"),
        above=("new above layer", "New above", "new above"), area="new area",
    )  # fmt: skip
    monkeypatch.setitem(sys.modules, planted.__name__, planted)
    source = (
        "from ..products.planted import NEW\n"
        "Computed(self, NEW.product.name, p, s)\n"
        "ThresholdedLayers.declared(self, NEW, label='New')\n"
    )
    found = named_in(source, "planted.py", "aef_widgets.widgets.planted")
    assert [message.split(" names ", 1)[1] for message in undeclared(found)] == [
        "node 'new'", "node 'new'", "node 'new layer'", "node 'new above layer'", "node 'new area'",
        "layer kind 'new'", "layer kind 'new above'",
    ]  # fmt: skip


def test_declarations_named_through_their_objects_are_read():
    source = (
        "from ..products.similarity import SIMILARITY\n"
        "ProductLayer(self, SIMILARITY.values.name, SIMILARITY.product.name, 'S', SIMILARITY.values.kind.name)\n"
    )
    found = named_in(source, "planted.py", "aef_widgets.widgets.planted")
    assert [(n.what, n.name) for n in found] == [("n", "similarity layer"), ("n", "similarity"), ("k", "similarity")]
    assert undeclared(found) == []


def declared_layers() -> dict[str, Draw]:
    """Every declared layer (``Draw``) by its node's name, from the family modules."""
    import aef_widgets.products as products

    draws: dict[str, Draw] = {}
    for path in Path(products.__file__).parent.glob("*.py"):
        module = importlib.import_module(f"aef_widgets.products.{path.stem}")
        for value in vars(module).values():
            for draw in (value.values, value.above) if isinstance(value, Thresholded) else (value,):
                if isinstance(draw, Draw):
                    draws[draw.name] = draw
    return draws


def layers_built(source: str) -> list[tuple[int, tuple]]:
    """(line, (node, product, title, kind)) of every ``ProductLayer`` built with literal arguments."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "ProductLayer" and len(node.args) >= 5:
            args = node.args[1:5]
            if all(isinstance(a, ast.Constant) for a in args):
                found.append((node.lineno, tuple(a.value for a in args)))
    return found


def layer_disagreements(source: str, path: str) -> list[str]:
    draws, problems = declared_layers(), []
    for line, (node, product, title, kind) in layers_built(source):
        draw = draws.get(node)
        if draw is None:
            problems.append(f"{path}:{line} draws {node!r}, which no family declares as a layer")
        elif (title, kind) != (draw.title, draw.kind.name) or product not in draw.node.inputs:
            problems.append(
                f"{path}:{line} draws {node!r} from {product!r} as {title!r} ({kind}); declared: "
                f"{draw.title!r} ({draw.kind.name}) from {draw.node.inputs}"
            )
    return problems


def test_every_layer_a_panel_draws_is_drawn_as_declared():
    """A layer's title, kind and product are those its family declares (``Draw``), not a panel's own."""
    problems = [p for path in PANEL_MODULES for p in layer_disagreements(path.read_text(), path.name)]
    assert problems == []
    assert len([x for path in PANEL_MODULES for x in layers_built(path.read_text())]) >= 5  # the scan reads them


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('ProductLayer(self, "clusters layer", "clusters", "Cluster map", "clusters")', "as 'Cluster map'"),
        ('ProductLayer(self, "confidence layer", "classes", "Confidence", "classes")', "(classes); declared"),
        ('ProductLayer(self, "clusters layer", "similarity", "Clusters", "clusters")', "from 'similarity'"),
        ('ProductLayer(self, "suggestions", "classes", "Suggestions", "probes")', "no family declares as a layer"),
    ],
)
def test_a_layer_drawn_otherwise_than_declared_is_caught(source, expected):
    (problem,) = layer_disagreements(source, "planted.py")
    assert expected in problem
