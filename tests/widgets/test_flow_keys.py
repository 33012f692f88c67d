"""Keys of the flow, read by name: what a product was computed for is recorded by the flow, not written on it."""

from __future__ import annotations

import pytest

from aef_widgets.widgets.flow import GRAPH, Flow, Key


def test_a_key_names_every_input_of_its_node_in_graph_order(state):
    key = Flow.of(state).key("similarity")
    assert [name for name, _ in key.items] == list(GRAPH["similarity"])
    assert key["year"] == state.year
    assert key["source"] is state.source
    assert key["probe_points"] == ()  # lists are held as tuples, so keys compare by value


def test_without_and_plus_change_only_the_named_inputs():
    key = Key((("product", "p"), ("threshold", 0.9), ("view", "v")))
    assert key.without("view") == Key((("product", "p"), ("threshold", 0.9)))
    assert key.without("view") != key
    assert key.plus(shown=True)["shown"] is True
    assert key.plus(shown=True) != key.plus(shown=False)
    with pytest.raises(KeyError, match="inputs: product, threshold, view"):
        key["aoi"]


def test_the_flow_records_the_key_a_product_was_set_for_and_knows_when_it_is_stale(state):
    flow = Flow.of(state)
    product = object()
    flow.set("similarity", product)
    assert flow.keys["similarity"] == flow.key("similarity")
    assert flow.is_current("similarity")
    state.similarity_threshold = 0.5  # not an input of the product: still current
    assert flow.is_current("similarity")
    state.probe_points = [(-89.5, 44.2)]  # an input: the product shown was made for other references
    assert not flow.is_current("similarity")
    assert flow.keys["similarity"]["probe_points"] == ()
    flow.set("similarity", None)
    assert "similarity" not in flow.keys and not flow.is_current("similarity")
