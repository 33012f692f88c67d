"""Explorer: the whole app builds without Earth Engine, never prompts, and wires its widgets together."""

from __future__ import annotations

import builtins
import io
import sys

import ee
import pytest

from aef_widgets.explorer import TAB_TITLES, Explorer
from aef_widgets.widgets import JobRunner
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
