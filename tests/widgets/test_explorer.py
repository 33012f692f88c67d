"""Explorer: the whole app builds without Earth Engine, never prompts, and wires its widgets together."""

from __future__ import annotations

import builtins
import io
import sys

import ee
import pytest

from aef_widgets.explorer import TAB_TITLES, Explorer
from aef_widgets.widgets import JobRunner, make_map
from tests.widgets.frontend import click


@pytest.fixture
def no_prompts(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the app asked for credentials or input")

    monkeypatch.setattr(ee, "Authenticate", refuse)
    monkeypatch.setattr(ee, "Initialize", refuse)
    monkeypatch.setattr(builtins, "input", refuse)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


def test_explorer_builds_offline_without_asking_for_anything(no_prompts, real_source):
    explorer = Explorer(real_source, runner=JobRunner.inline())
    assert explorer.value is explorer.state
    assert [explorer.tabs.get_title(i) for i in range(len(TAB_TITLES))] == list(TAB_TITLES)
    assert "RGB composite" in [x.name for x in explorer.map.layers]
    controls = {type(c).__name__ for c in explorer.map.controls}
    assert controls == {"ZoomControl", "ScaleControl", "AttributionControl", "DrawControl", "WidgetControl"}
    assert sum(type(c).__name__ == "DrawControl" for c in explorer.map.controls) == 1
    footer = explorer.children[1].children[-1].value
    assert "produced by Google and Google DeepMind" in footer


def test_map_clicks_pick_references_only_in_the_similarity_tab(real_source):
    explorer = Explorer(real_source, runner=JobRunner.inline())
    lon, lat = real_source.footprint.center_lonlat
    click(explorer.map, lon, lat)
    assert explorer.state.probe_points == []
    explorer.tabs.selected_index = TAB_TITLES.index("Similarity")
    click(explorer.map, lon, lat)
    assert explorer.state.probe_points == [(lon, lat)]


def test_widgets_share_one_state(real_source):
    explorer = Explorer(real_source, runner=JobRunner.inline())
    panels = [explorer.year, explorer.bands, explorer.aoi, explorer.clusters, explorer.similarity, explorer.change]
    assert all(p.state is explorer.state for p in panels)
    explorer.clusters.k.value = 7
    assert explorer.state.n_clusters == 7


def test_a_closed_explorer_no_longer_reacts_and_closing_twice_is_harmless(real_source):
    explorer = Explorer(real_source, runner=JobRunner.inline())
    state, m = explorer.state, explorer.map
    explorer.tabs.selected_index = TAB_TITLES.index("Similarity")
    explorer.close()
    assert explorer.comm is None and m.comm is None and explorer.similarity.comm is None  # its map was its own
    lon, lat = real_source.footprint.center_lonlat
    click(m, lon, lat)  # a click the frontend had sent before the page knew
    assert state.probe_points == []
    explorer.close()


def test_closing_an_explorer_leaves_a_map_it_was_given_as_it_was(real_source):
    m = make_map(real_source)
    before = ([x.name for x in m.layers], [type(c).__name__ for c in m.controls])
    explorer = Explorer(real_source, map=m, runner=JobRunner.inline())
    assert "RGB composite" in [x.name for x in m.layers]
    explorer.close()
    assert ([x.name for x in m.layers], [type(c).__name__ for c in m.controls]) == before
    assert m.comm is not None  # still the caller's, open
