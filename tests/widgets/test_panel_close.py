"""Panel.close(): a closed panel detaches what it made (flow subscriptions, observers of the state, map handlers)
and never reacts again, while the state, the map and other panels go on working. Driven with the frontend's
messages (map clicks)."""

from __future__ import annotations

import pytest

from aef_widgets.widgets import (
    AOIDrawer,
    BandRGBSelector,
    ChangeOverYears,
    ChangePanel,
    ClassifyPanel,
    ClusterPanel,
    SideBySide,
    SimilarityProbe,
    TimeSeriesPanel,
    YearPicker,
)  # fmt: skip
from aef_widgets.widgets.flow import Flow
from aef_widgets.widgets.map_view import view_of
from tests.widgets.frontend import click


def subscriptions(flow: Flow) -> dict[str, int]:
    return {node: len(updates) for node, updates in flow._updates.items() if updates}


def test_a_closed_similarity_probe_is_detached_and_no_longer_reacts(state, fresh_map, runner, real_source):
    flow = Flow.of(state)
    before = subscriptions(flow)
    handlers_before = len(fresh_map._interaction_callbacks.callbacks)
    probe = SimilarityProbe(state, map=fresh_map, runner=runner)
    assert subscriptions(flow) != before  # it subscribed to its nodes
    lon, lat = real_source.footprint.center_lonlat
    click(fresh_map, lon, lat)
    assert state.probe_points == [(lon, lat)] and flow.values.get("similarity") is not None
    computations = probe.computed.computations

    probe.close()
    assert subscriptions(flow) == before
    assert len(fresh_map._interaction_callbacks.callbacks) == handlers_before
    click(fresh_map, lon + 0.001, lat)  # no handler of the closed probe takes the click
    assert state.probe_points == [(lon, lat)]
    state.probe_points = []  # nor does the state reach it
    assert probe.value == [(lon, lat)]
    assert probe.computed.computations == computations
    probe.close()  # closing twice is harmless


def test_a_new_probe_on_the_same_state_and_map_works_after_one_is_closed(state, fresh_map, runner, real_source):
    SimilarityProbe(state, map=fresh_map, runner=runner).close()
    probe = SimilarityProbe(state, map=fresh_map, runner=runner)
    lon, lat = real_source.footprint.center_lonlat
    click(fresh_map, lon, lat)
    assert probe.value == [(lon, lat)]
    assert probe.product is not None and abs(probe.product.readout - 1.0) < 1e-6  # a reference is like itself


def state_observers(state) -> int:
    return sum(len(handlers) for by_type in state._trait_notifiers.values() for handlers in by_type.values())


@pytest.mark.parametrize(
    "panel_class",
    [AOIDrawer, BandRGBSelector, ChangeOverYears, ChangePanel, ClassifyPanel, ClusterPanel, SideBySide,
     SimilarityProbe, TimeSeriesPanel, YearPicker],
    ids=lambda c: c.__name__,
)  # fmt: skip
def test_closing_any_panel_leaves_the_state_the_flow_and_the_map_as_before_it(panel_class, state, fresh_map, runner):
    flow = Flow.of(state)
    flow.track(fresh_map, view_of)  # the flow's own watchers of the state and the map stay: they are not a panel's
    before = (subscriptions(flow), state_observers(state), len(fresh_map._interaction_callbacks.callbacks))
    panel = panel_class(state, map=fresh_map, runner=runner)
    panel.close()
    assert (subscriptions(flow), state_observers(state), len(fresh_map._interaction_callbacks.callbacks)) == before
