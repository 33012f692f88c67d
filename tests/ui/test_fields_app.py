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
