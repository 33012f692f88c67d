"""Panel.close(): a closed panel detaches what it made (flow subscriptions, observers of the state, map handlers,
its layers and draw tool registration), closes its widgets, and never reacts again, while the state, the map and
other panels go on working. Driven with the frontend's messages (map clicks, drawn shapes)."""

from __future__ import annotations

import gc

import pytest
from ipywidgets.widgets import widget as widget_module

from aef_widgets import AOI
from aef_widgets.widgets import (
    AOIDrawer,
    BandRGBSelector,
    ChangeOverYears,
    ChangePanel,
    ClassifyPanel,
    ClusterPanel,
    ExplorerState,
    SideBySide,
    SimilarityProbe,
    TimeSeriesPanel,
    YearPicker,
    make_map,
)  # fmt: skip
from aef_widgets.widgets.draw_tool import DrawTool
from aef_widgets.widgets.flow import Flow
from aef_widgets.widgets.layer_stack import LayerStack
from aef_widgets.widgets.map_view import view_of
from tests.widgets.frontend import click, draw, rectangle


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


def map_seen(m) -> tuple:
    """What the panels may change on a map: its layers, its controls, the layer stack's slots, the draw tool's
    users."""
    stack, tool = LayerStack.of(m), DrawTool.of(m)
    return (
        [layer.name for layer in m.layers], [type(c).__name__ for c in m.controls], len(stack.slots),
        sorted(tool._users), tool.user,
    )  # fmt: skip


def _inner(source, shrink: float = 0.3) -> tuple[float, float, float, float]:
    west, south, east, north = source.footprint.lonlat_bounds()
    dx, dy = (east - west) * shrink, (north - south) * shrink
    return west + dx, south + dy, east - dx, north - dy


def _use_classify(panel, m, source) -> None:
    west, south, east, north = _inner(source)
    for target, points in ((0, [(west, south), (east, north)]), (1, [(west, north), (east, south)])):
        panel.active.value = target
        for lon, lat in points:
            click(m, lon, lat)


def _use_change_over_years(panel, m, source) -> None:
    panel.state.aoi = AOI.from_bounds(*_inner(source))  # maps over all years are computed in an AOI
    panel.show_when.value = True


#: How each panel is used (as the browser would) so that it puts its layers on the map before it is closed.
USE = {
    AOIDrawer: lambda panel, m, source: draw(DrawTool.of(m).control, rectangle(*_inner(source))),
    ChangeOverYears: _use_change_over_years,
    ClassifyPanel: _use_classify,
    ClusterPanel: lambda panel, m, source: panel.run.click(),
    SideBySide: lambda panel, m, source: setattr(panel.show_split, "value", True),
    SimilarityProbe: lambda panel, m, source: click(m, *source.footprint.center_lonlat),
    TimeSeriesPanel: lambda panel, m, source: click(m, *source.footprint.center_lonlat),
}
#: The panels that draw on the main map (the side-by-side view has a map of its own; a year picker draws nothing).
DRAWS = {AOIDrawer, BandRGBSelector, ChangeOverYears, ChangePanel, ClassifyPanel, ClusterPanel, SimilarityProbe,
         TimeSeriesPanel}  # fmt: skip


@pytest.mark.parametrize(
    "panel_class",
    [AOIDrawer, BandRGBSelector, ChangeOverYears, ChangePanel, ClassifyPanel, ClusterPanel, SideBySide,
     SimilarityProbe, TimeSeriesPanel, YearPicker],
    ids=lambda c: c.__name__,
)  # fmt: skip
def test_closing_a_used_panel_takes_its_layers_and_draw_tool_off_the_map_and_closes_its_widgets(
    panel_class, two_year_source, runner
):
    """Each panel used until it shows what it shows, then closed: the map has the layers, controls and draw tool
    users it had before the panel, the layer stack no slot of it, and no widget the panel made is still open."""
    state, m = ExplorerState(two_year_source), make_map(two_year_source)
    Flow.of(state).track(m, view_of)
    before, widgets = map_seen(m), live_widgets()
    panel = panel_class(state, map=m, runner=runner)
    USE.get(panel_class, lambda *_: None)(panel, m, two_year_source)
    shown = map_seen(m)
    if panel_class in DRAWS:
        assert shown[0] != before[0], "the panel was meant to draw something before it is closed"
    panel.close()
    assert map_seen(m) == before
    assert live_widgets() == widgets
    panel.close()  # twice is harmless
    assert map_seen(m) == before


def live_widgets() -> int:
    gc.collect()
    return len(widget_module._instances)
