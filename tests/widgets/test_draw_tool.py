"""The map's one draw control, shared by the AOI and the classification, driven with the frontend's messages."""

from __future__ import annotations

import ipyleaflet

from aef_widgets import sample_source
from aef_widgets.explorer import TAB_TITLES, Explorer
from aef_widgets.widgets import ClassifyPanel, ExplorerState, JobRunner, make_map
from aef_widgets.widgets.draw_tool import DrawTool
from tests.widgets.frontend import draw, rectangle


def draw_controls(m) -> list:
    return [c for c in m.controls if isinstance(c, ipyleaflet.DrawControl)]


def test_the_explorer_has_one_draw_control_whose_meaning_follows_the_tab():
    """Issue 22: the Classify tab added a second draw control, and a shape drawn with either reached both (the
    frontend's view listens for draw:created on the map). One control; a shape labels on the Classify tab and is
    the AOI on every other tab, and the word next to the tool says which."""
    source = sample_source()
    explorer = Explorer(source, runner=JobRunner.inline())
    m, tool = explorer.map, DrawTool.of(explorer.map)
    west, south, east, north = source.footprint.lonlat_bounds()
    box = (west + (east - west) * 0.3, south + (north - south) * 0.3, west + (east - west) * 0.5,
           south + (north - south) * 0.5)  # fmt: skip
    for title in TAB_TITLES:
        explorer.tabs.selected_index = TAB_TITLES.index(title)
        assert len(draw_controls(m)) == 1, title
        assert any(c.widget is tool.hint for c in m.controls if isinstance(c, ipyleaflet.WidgetControl))
        words = "labels Class 1" if title == "Classify" else "sets the AOI"
        assert words in tool.hint.value, (title, tool.hint.value)
    explorer.tabs.selected_index = TAB_TITLES.index("Classify")
    explorer.classify.active.value = 1
    assert "labels Class 2" in tool.hint.value
    draw(draw_controls(m)[0], rectangle(*box))
    assert explorer.state.aoi is None and len(explorer.classify.value) > 0
    assert {p.target for p in explorer.classify.value} == {1}
    labels = list(explorer.classify.value)
    explorer.tabs.selected_index = TAB_TITLES.index("AOI")
    draw(draw_controls(m)[0], rectangle(*box))
    assert explorer.state.aoi is not None and explorer.classify.value == labels
    assert explorer.state.aoi.area_km2 > 0


def test_a_lone_classify_panel_shows_the_tool_only_while_it_labels():
    source = sample_source()
    panel = ClassifyPanel(ExplorerState(source), map=make_map(source), runner=JobRunner.inline())
    assert len(draw_controls(panel.map)) == 1 and "labels Class 1" in DrawTool.of(panel.map).hint.value
    panel.picking.value = False
    assert draw_controls(panel.map) == [] and DrawTool.of(panel.map).control is None
    panel.picking.value = True
    assert len(draw_controls(panel.map)) == 1
