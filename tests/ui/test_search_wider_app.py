"""The "Search wider" section in the served explorer app, in Chromium: a click for a reference, the section
unfolded, its plan read, the search run, and its 100 matches drawn as markers and listed. The scores are checked against
``find_similar`` in tests/widgets/test_search_wider.py; this checks what the browser shows."""

from __future__ import annotations

from aef_widgets.rendering.colors import MATCH_COLOR
from tests.ui.app import App


def test_search_wider_draws_and_lists_the_matches(app: App):
    app.open_tab("Similarity")
    app.page.mouse.click(*app.map_point(0.5, 0.45))
    app.wait_overlay("Similarity")
    panel = app.panel("aef-search-wider")
    panel.get_by_text("Search wider", exact=True).click()  # the section is folded until asked for
    app.wait_text(app.panel("aef-search-plan"), r"km², 1,024 x 1,024 px at 10 m .*an estimate")
    panel.get_by_role("button", name="Search", exact=True).click()
    app.wait_text(panel, r"100 matches\. coarse-to-fine search")
    markers = app.page.locator(f'.aef-explorer path.leaflet-interactive[fill="{MATCH_COLOR}"]')
    markers.nth(99).wait_for()  # the layer's view is made asynchronously, and may follow the words drawn before it
    assert markers.count() == 100
    rows = panel.locator("select[size] option")
    first = rows.first.inner_text().replace("\xa0", " ")  # the list shows spaces as non-breaking ones
    assert rows.count() == 100 and first.startswith("1. score 1.000 at "), first
    assert app.errors_shown() == []
    app.screenshot("search-wider")
