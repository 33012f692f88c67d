"""The layer kinds' declarations agree with what is drawn: driven through the Explorer with the frontend's messages,
every image on the map is pixelated exactly when its kind is declared categorical (``Kind.crisp``), and starts at
its declared opacity."""

from __future__ import annotations

import ipyleaflet

from aef_widgets.explorer import TAB_TITLES, Explorer
from aef_widgets.products.registry import kinds
from aef_widgets.sources import open_source
from aef_widgets.widgets import JobRunner
from aef_widgets.widgets.layer_stack import CRISP_CLASS, LayerStack
from tests.conftest import REAL_INT8
from tests.widgets.frontend import click


def test_images_are_crisp_and_as_opaque_as_their_kind_declares():
    source = open_source(REAL_INT8)
    explorer = Explorer(source, runner=JobRunner.inline())
    explorer.clusters.run.click()
    explorer.tabs.selected_index = TAB_TITLES.index("Similarity")
    click(explorer.map, *source.footprint.center_lonlat)
    explorer.state.index_weights = [1.0] * 64
    declared = kinds()
    shown = [s for s in LayerStack.of(explorer.map).slots if isinstance(s.layer, ipyleaflet.ImageOverlay)]
    assert {s.kind for s in shown} >= {"rgb", "clusters", "similarity", "matches", "index", "index above"}
    for slot in shown:
        assert (slot.layer.class_name == CRISP_CLASS) == declared[slot.kind].crisp, slot.kind
        assert slot.layer.opacity == declared[slot.kind].opacity, slot.kind
