"""The Fields tab in the served explorer app, in Chromium: a GeoJSON of fields chosen in the file input (as a user
picks a file), the fields drawn as one overlay coloured by their k-means cluster, listed, and a file of points
refused in words. The per-field numbers are checked in tests/widgets/test_fields_panel.py; this checks what the
browser shows."""

from __future__ import annotations

import geopandas as gpd
import shapely

from aef_widgets.sources.sample import sample_source
from tests.ui.app import App


def fields_geojson(points: bool = False) -> bytes:
    """Twelve fields over the bundled sample (the app's source), as GeoJSON in degrees; their centroids if
    ``points``."""
    transform = sample_source().grid(None).transform
    x0, y0 = transform.c, transform.f
    shapes = [
        shapely.box(x0 + 403.7 + 2400 * i, y0 - 1727.7 - 3100 * j, x0 + 1308.9 + 2400 * i, y0 - 517.3 - 3100 * j)
        for i in range(4)
        for j in range(3)
    ]
    table = gpd.GeoDataFrame({"name": [f"F{k}" for k in range(12)]}, geometry=shapes, crs="EPSG:32616")
    if points:
        table = table.set_geometry(table.centroid)
    return table.to_crs("EPSG:4326").to_json().encode()


def test_fields_uploaded_in_the_browser_are_drawn_listed_and_bad_files_explained(app: App):
    app.open_tab("Fields")
    panel = app.panel("aef-fields-panel")

    def choose(name: str, content: bytes) -> None:
        with app.page.expect_file_chooser() as chosen:  # the upload button opens the browser's file dialog
            panel.get_by_role("button", name="Load fields").click()
        chosen.value.set_files(files=[{"name": name, "mimeType": "application/geo+json", "buffer": content}])

    choose("fields.geojson", fields_geojson())
    app.wait_text(panel, r"12 fields from fields\.geojson")
    app.wait_overlay("Fields")
    app.wait_text(panel, r"K-means cluster\s+Fields")  # the legend of the five clusters
    assert panel.locator("select[size] option").count() == 12  # the list of fields (a listbox, not a dropdown)
    app.screenshot("fields-tab")
    choose("points.geojson", fields_geojson(points=True))
    app.wait_text(panel, r"are not polygons \(Point\)")
    assert [e for e in app.errors_shown() if "not polygons" not in e] == []


def test_a_field_chosen_in_the_list_is_outlined_and_its_years_charted(app: App):
    """The chosen field's outline on the map (only while the Fields tab is open) and its chart: a tick for every
    year and the legend under the points, as issue 22 asked of the Time chart."""
    from aef_widgets.widgets.field_trajectory import OUTLINE_STYLE

    app.open_tab("Fields")
    panel = app.panel("aef-fields-panel")
    with app.page.expect_file_chooser() as chosen:
        panel.get_by_role("button", name="Load fields").click()
    chosen.value.set_files(files=[{"name": "fields.geojson", "mimeType": "application/geo+json",
                                   "buffer": fields_geojson()}])  # fmt: skip
    app.wait_text(panel, r"12 fields from fields\.geojson")
    panel.locator("select[size] option").nth(3).click()  # a row of the list, as a user picks one
    outline = app.page.locator(f'.aef-explorer path[stroke="{OUTLINE_STYLE["color"]}"]')
    outline.wait_for()
    assert outline.count() == 1 and outline.get_attribute("fill") == "none"
    chart = app.panel("aef-field-trajectory")
    app.wait_text(app.panel("aef-field-trajectory-summary"), r"largest change from the year before: \d{4}")
    app.assert_year_chart(chart, app.panel("aef-field-trajectory-legend"), range(2018, 2026))
    app.screenshot("fields-trajectory")
    app.open_tab("Similarity")
    app.page.wait_for_function(f"() => !document.querySelector('path[stroke=\"{OUTLINE_STYLE['color']}\"]')")
    app.open_tab("Fields")
    outline.wait_for()
    assert app.errors_shown() == []
