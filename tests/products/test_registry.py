"""The product declarations: the graph and layer kinds built from them, and the import-time check that every input
names a state trait or a node declared before it (each failure proven with a planted bad declaration)."""

from __future__ import annotations

import pytest

from aef_widgets.products import registry
from aef_widgets.products.declare import Draw, Family, Kind, Node
from aef_widgets.products.registry import FAMILIES, STACKING, STATE_TRAITS, DeclarationError, check
from aef_widgets.products.similarity import SIMILARITY
from aef_widgets.products.threshold import threshold_family
from aef_widgets.sources import open_source
from aef_widgets.widgets.flow import GRAPH, Flow
from aef_widgets.widgets.layer_stack import KINDS, START_OPACITY, LayerStack
from aef_widgets.widgets.state import ExplorerState
from tests.conftest import REAL_INT8


@pytest.fixture
def real_source():
    return open_source(REAL_INT8)


def test_the_flow_and_the_layer_stack_are_built_from_the_declarations():
    assert {node.name: node.inputs for family in FAMILIES for node in family.nodes} == GRAPH
    assert {kind.name: kind.family for family in STACKING for kind in family.kinds} == KINDS
    assert {k.name: k.opacity for f in STACKING for k in f.kinds if k.opacity != 1.0} == START_OPACITY
    assert SIMILARITY.values.name in GRAPH and SIMILARITY.above.kind.name in KINDS


def test_every_input_is_a_state_trait_or_an_earlier_node():
    state_traits = set(ExplorerState.class_trait_names())
    seen: set[str] = set()
    for name, inputs in GRAPH.items():
        for value in inputs:
            assert value in state_traits or value in seen, (name, value)
        seen.add(name)


def test_the_registry_knows_exactly_the_state_s_own_traits():
    own = set(ExplorerState.class_trait_names()) - set(registry.state_traits()) - {"engine"}
    assert own == STATE_TRAITS


def test_a_thresholded_family_declares_its_four_nodes_and_two_kinds():
    family = threshold_family(
        "ndvi-like", ("source", "year"), threshold="t", values=("v layer", "V", "v"), above=("a layer", "A", "a"),
        area="a area", traits={"t": object()},
    )  # fmt: skip
    assert [n.name for n in family.nodes] == ["ndvi-like", "v layer", "a layer", "a area"]
    assert family.above.node.inputs == ("ndvi-like", "t", "view") and family.area.inputs == ("ndvi-like", "t", "view")
    assert family.values.kind == Kind("v", "ndvi-like") and family.above.kind.opacity < 1 and family.above.kind.crisp


def _rgb() -> Family:
    product = Node("rgb", ("source", "year"))
    return Family("rgb", nodes=(product, Node("rgb layer", (product, "view"))), kinds=(Kind("rgb", "rgb"),))


@pytest.mark.parametrize(
    ("families", "message"),
    [
        ((Family("x", nodes=(Node("x", ("source", "yaer")),)),), "names input 'yaer', which is neither"),
        (
            (Family("x", nodes=(Node("x layer", ("x", "view")), Node("x", ("source",)))),),
            "names input 'x'.*declared later",
        ),
        ((_rgb(), Family("y", nodes=(Node("rgb", ("source",)),))), "node 'rgb' is declared by 'rgb' and 'y'"),
        ((_rgb(), Family("y", kinds=(Kind("rgb", "y"),))), "layer kinds declared twice: rgb"),
    ],
)
def test_a_bad_declaration_is_refused_with_a_clear_message(families, message):
    stacking = tuple(f for f in families if f.kinds)
    with pytest.raises(DeclarationError, match=message):
        check(families, stacking, frozenset({"source", "year", "view"}))


def test_a_family_with_layers_must_be_stacked():
    with pytest.raises(DeclarationError, match=r"missing \['rgb'\]"):
        check((_rgb(),), (), frozenset({"source", "year", "view"}))
    check((_rgb(),), (_rgb(),), frozenset({"source", "year", "view"}))  # the same, stacked: fine


def test_a_node_names_its_inputs_once_and_by_name():
    with pytest.raises(ValueError, match="twice"):
        Node("x", ("year", "year"))
    with pytest.raises(TypeError, match="names of state traits or nodes"):
        Node("x", ("year", 3))
    product = Node("p", ("year",))
    assert Draw(Node("p layer", (product, "view")), "P", Kind("p", "p")).node.inputs == ("p", "view")
    with pytest.raises(KeyError, match="has no node 'q'"):
        Family("p", nodes=(product,)).node("q")


def test_a_family_s_traits_are_traits_of_the_state(real_source):
    from traitlets import Float

    family = Family("extra", traits={"extra_threshold": Float(0.25)})
    State = registry.state_class((*FAMILIES, family))
    assert State().extra_threshold == 0.25 and not hasattr(ExplorerState(real_source), "extra_threshold")


def test_the_flow_refuses_a_node_nobody_declared(real_source):
    flow = Flow(ExplorerState(real_source))
    with pytest.raises(ValueError, match="unknown node 'similarty'"):
        flow.on("similarty", lambda: None)
    with pytest.raises(ValueError, match="unknown layer kind 'matchez'"):
        LayerStack.of(__import__("ipyleaflet").Map()).slot("M", "matchez")
