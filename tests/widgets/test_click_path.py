"""A similarity click is one job (loop -> worker -> loop): the product and its values layer are computed together, and
a layer drawn for a view the map has left is never shown. In the Explorer a click reaches only the open tab's panels.

Issue 19's measure (docs/upper-floors-plan.md, step 13); ``tools/architecture_report.py`` measures the same click on
an asyncio loop with real threads (2 hops).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from aef_widgets.explorer import TAB_TITLES, Explorer
from aef_widgets.widgets import JobRunner, SimilarityProbe
from tests.widgets.frontend import ManualExecutor, click, rgba


def _corners(bounds) -> tuple:
    return tuple(tuple(corner) for corner in bounds)


def _similarity_layer(m):
    return next((x for x in m.layers if x.name == "Similarity"), None)


def test_a_similarity_click_is_one_job_and_its_layer_is_shown_when_it_ends(state, fresh_map):
    executor = ManualExecutor()
    probe = SimilarityProbe(state, map=fresh_map, runner=JobRunner(executor))
    lon, lat = state.source.footprint.center_lonlat
    click(fresh_map, lon, lat)
    assert len(executor.pending) == 1  # the similarity job, nothing else yet
    executor.run(0)  # the worker's one call; its result comes back to the loop
    shown = _similarity_layer(fresh_map)
    assert shown is not None  # on the map now, before any other job ran
    assert probe.map_layers.values_layer.node.computations == 0  # no job of its own drew it
    # what is shown is the product drawn for the view of the click, drawn again here independently
    expected = probe.product.layer(state.engine.context, probe.current_view())
    assert _corners(shown.bounds) == _corners(expected.bounds)
    assert np.array_equal(rgba(shown.url), rgba(expected.url))


def test_a_layer_drawn_for_a_view_the_map_left_is_not_shown(state, fresh_map):
    executor = ManualExecutor()
    probe = SimilarityProbe(state, map=fresh_map, runner=JobRunner(executor))
    lon, lat = state.source.footprint.center_lonlat
    click(fresh_map, lon, lat)
    old = probe.current_view()
    # the map moves to the north-east quarter while the job runs
    new = dataclasses.replace(old, west=(old.west + old.east) / 2, south=(old.south + old.north) / 2)
    state.view = new
    executor.run(0)
    assert _similarity_layer(fresh_map) is None  # the layer drawn ahead was for the old view: not shown
    assert probe.map_layers.values_layer.node.computations == 0
    executor.run_all()
    shown = _similarity_layer(fresh_map)
    assert probe.map_layers.values_layer.node.computations == 1  # drawn again, for the view of now
    expected = probe.product.layer(state.engine.context, new)
    stale = probe.product.layer(state.engine.context, old)
    assert _corners(shown.bounds) == _corners(expected.bounds) != _corners(stale.bounds)
    assert np.array_equal(rgba(shown.url), rgba(expected.url))


def test_an_explorer_click_reaches_only_the_open_tabs_panels(real_source):
    explorer = Explorer(real_source, runner=JobRunner.inline())
    panels = {"Similarity": explorer.similarity, "Time": explorer.time, "Classify": explorer.classify.labels,
              "Index": explorer.index}  # fmt: skip
    got: dict[str, int] = dict.fromkeys(panels, 0)

    def spy(tab: str):
        def handle(**event) -> None:
            got[tab] += event.get("type") == "click"

        return handle

    for tab, panel in panels.items():
        panel.on_map_interaction(spy(tab))  # a handler added later is dispatched like the panel's own
    lon, lat = real_source.footprint.center_lonlat
    for tab in ("Layers", *panels):
        explorer.tabs.selected_index = TAB_TITLES.index(tab)
        before = dict(got)
        click(explorer.map, lon, lat)
        assert {t: got[t] - before[t] for t in panels} == {t: int(t == tab) for t in panels}, tab
    assert explorer.state.probe_points == [(lon, lat)]  # the one click made in the Similarity tab
    assert len(explorer.classify.labels.value) == 1  # the one made in the Classify tab
    explorer.close()
    assert explorer.map._interaction_callbacks.callbacks == []  # the dispatcher left with the explorer


def test_a_panel_used_alone_still_handles_its_own_clicks(state, fresh_map, runner):
    probe = SimilarityProbe(state, map=fresh_map, runner=runner)
    lon, lat = state.source.footprint.center_lonlat
    click(fresh_map, lon, lat)
    assert probe.value == [(lon, lat)]
    probe.close()
    click(fresh_map, lon, lat)
    assert state.probe_points == [(lon, lat)]
