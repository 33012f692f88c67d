"""The explorer app in a real browser against a real Voila server, offline: what a user sees and does."""

from __future__ import annotations

import re

import pytest

from aef_widgets.rendering.colors import AOI_COLOR, PROBE_COLOR
from tests.ui.app import App, first_number_after, number

pytestmark = pytest.mark.ui

#: Leaflet controls the app uses; every other control (layers, fullscreen, measure, geemap's toolbars) is hidden.
OUR_CONTROLS = {"leaflet-control-zoom", "leaflet-draw", "leaflet-control-scale", "leaflet-control-attribution",
                "leaflet-widgetcontrol"}  # fmt: skip


def test_app_renders_map_panel_and_rgb_overlay(untouched_app: App):
    app = untouched_app
    page = app.page
    assert page.locator(".aef-explorer .leaflet-container").is_visible()
    panel = app.panel("aef-side-panel")
    assert panel.is_visible()
    tabs = panel.locator(".lm-TabBar-tab").all_inner_texts()
    assert [t.strip() for t in tabs] == [
        "Layers",
        "AOI",
        "Clusters",
        "Similarity",
        "Change",
        "Time",
        "Classify",
        "Index",
        "Fields",
    ]
    assert app.panel("aef-synthetic-badge").is_visible()
    assert "produced by Google and Google DeepMind" in app.panel("aef-attribution").inner_text()
    app.wait_text(app.panel("aef-layer-list"), "RGB composite")
    rgb = app.overlay("RGB composite").bounding_box()
    assert rgb is not None and rgb["width"] > 300 and rgb["height"] > 300
    # app mode, safe on a shared server: no code, nowhere to type a path or code, no errors
    assert page.locator(".jp-InputArea, .CodeMirror, .cm-editor").count() == 0
    assert "explorer_app" not in page.locator("body").inner_text()
    # the only text boxes are "go to a place", which takes numbers and nothing else (tests/core/test_place.py), the
    # classify panel's class names, which are only ever shown as text, and the index's weights, only ever parsed as
    # numbers (tests/products/test_index.py), and Search wider's bounding box, parsed as four numbers or refused in
    # words (tests/widgets/test_search_wider.py); no path: the Fields tab loads layers by upload only in the app
    areas = page.locator(".aef-explorer textarea").count()
    assert areas == page.locator(".aef-index-panel textarea").count() == 1
    boxes = page.locator(".aef-explorer input[type='text']").count()
    ours = page.locator(
        ".aef-place-finder input[type='text'], .aef-classify-panel input[type='text'], "
        ".aef-search-wider input[type='text']"
    ).count()
    assert boxes == ours >= 1
    assert app.errors_shown() == []
    # the server read notebooks/voila.json (the kernel culling there is not a default)
    assert "idle durations > 180 seconds" in (app.artifacts / "voila.log").read_text()
    app.screenshot("01-app")


def test_no_icon_words_offline_and_only_the_controls_we_use(untouched_app: App):
    app = untouched_app
    assert app.icon_words_shown() == [], "an icon font is missing and its ligature shows as text"
    controls = app.page.eval_on_selector_all(
        ".aef-explorer .leaflet-control-container .leaflet-control", "els => els.map((e) => e.className)"
    )
    kinds = {next((c for c in OUR_CONTROLS if c in classes.split()), classes) for classes in controls}
    assert kinds == OUR_CONTROLS
    # the draw toolbar offers what the AOI needs: a rectangle and a polygon
    tools = app.page.locator(".aef-explorer .leaflet-draw-toolbar a")
    assert sorted(t.get_attribute("title") for t in tools.all()) == ["Draw a polygon", "Draw a rectangle"]


def test_changing_bands_changes_the_overlay(app: App):
    before = app.overlay_src("RGB composite")
    app.choose("R", "A05")
    after = app.wait_overlay_changed("RGB composite", before)
    assert after != before
    assert app.page.locator(".aef-explorer").get_by_label("Colours", exact=True).input_value() == "Custom bands"
    app.choose("Colours", "Principal components")
    app.wait_overlay_changed("RGB composite", after)
    assert app.errors_shown() == []
    app.screenshot("02-bands")


def test_a_click_places_the_probe_and_shows_similarity(app: App):
    app.open_tab("Similarity")
    app.page.mouse.click(*app.map_point(0.5, 0.45))
    readout = app.wait_text(app.panel("aef-similarity-readout"), r"\d\.\d\d")
    app.wait_overlay("Similarity")
    app.wait_overlay("Similarity matches")
    marker = app.page.locator(f'.aef-explorer path.leaflet-interactive[fill="{PROBE_COLOR}"]')
    marker.first.wait_for()  # a layer's view is made asynchronously
    assert marker.count() == 1
    # the probe sits where the click was
    box = marker.bounding_box()
    x, y = app.map_point(0.5, 0.45)
    assert abs(box["x"] + box["width"] / 2 - x) < 3 and abs(box["y"] + box["height"] / 2 - y) < 3
    # a pixel is exactly as similar to itself as can be (vectors are compared at unit length)
    assert "clicked last: 1.00" in readout, readout
    matches = app.wait_text(app.panel("aef-similarity-probe"), r"Matches \(≥ 0\.90\): [\d,.]+ ha")
    assert "ha" in matches
    assert app.errors_shown() == []
    app.screenshot("03-similarity")


def test_errors_are_shown_in_words(app: App):
    app.open_tab("Similarity")
    box = app.page.locator(".aef-explorer .leaflet-container").bounding_box()
    app.page.mouse.click(box["x"] + 60, box["y"] + box["height"] - 60)  # the grey corner, outside the data
    notice = app.panel("aef-similarity-probe").locator(".aef-notice")
    message = app.wait_text(notice, r"\w")
    assert "no embedding at that point" in message
    assert notice.locator("span[style*='#b00020']").count() == 1  # shown as an error, in red
    # and the click left no reference marker (the page's own timeout: a busy kernel's updates come late, not wrong)
    app.page.wait_for_function("() => document.querySelectorAll('.leaflet-interactive').length === 0")
    body = app.page.locator("body").inner_text()
    assert "Traceback" not in body and "Error:" not in body and "NoDataError" not in body
    app.screenshot("07-error-in-words")


def draw_rectangle(app: App, corner_a: tuple[float, float], corner_b: tuple[float, float]) -> None:
    """Pick the rectangle tool and drag it on the map, as a user does."""
    app.page.locator(".aef-explorer a.leaflet-draw-draw-rectangle").click()
    mouse = app.page.mouse
    mouse.move(*corner_a)
    mouse.down()
    mouse.move(*corner_b, steps=10)
    mouse.up()


def cluster_table(app: App) -> dict[str, float]:
    """The legend's area table as {class: hectares}, the "Total" row included."""
    rows = app.panel("aef-cluster-panel").locator("table.aef-table tbody tr")
    table = {}
    for row in rows.all():
        cells = [c.strip() for c in row.locator("td").all_inner_texts()]
        name, hectares = cells[1], cells[2]
        table[name] = number(hectares)
    return table


def test_drawing_an_aoi_and_clustering_shows_classes_with_areas(app: App):
    app.open_tab("AOI")
    a, b = app.map_point(0.35, 0.35), app.map_point(0.6, 0.6)
    draw_rectangle(app, a, b)
    aoi_text = app.wait_text(app.panel("aef-aoi-drawer"), r"AOI: [\d,.]+ km² · [\d,]+ pixels")
    aoi_km2 = first_number_after("AOI:", aoi_text)
    aoi_pixels = first_number_after("km² ·", aoi_text)
    outline = app.page.locator(f'.aef-explorer path.leaflet-interactive[stroke="{AOI_COLOR}"]')
    outline.first.wait_for()  # drawn just after the panel's words
    assert outline.count() == 1
    app.screenshot("04-aoi")

    app.open_tab("Clusters")
    k = 4
    readout = app.panel("aef-cluster-panel").locator(".widget-readout").first
    readout.click()
    app.page.keyboard.press("Control+A")
    app.page.keyboard.type(str(k))
    app.page.keyboard.press("Enter")
    app.wait_text(readout, rf"^{k}$")
    app.panel("aef-cluster-panel").get_by_role("button", name="Run k-means").click()
    app.wait_text(app.panel("aef-cluster-panel"), rf"{k} clusters of \d{{4}} in the AOI")
    app.wait_overlay("Clusters")

    table = cluster_table(app)
    classes = {name: ha for name, ha in table.items() if name != "Total"}
    assert list(classes) == [f"Cluster {i}" for i in range(k)]
    swatches = (
        app.panel("aef-cluster-panel")
        .locator("table.aef-table tbody td span")
        .evaluate_all("spans => spans.map((s) => getComputedStyle(s).backgroundColor)")
    )
    colours = [c for c in swatches if c != "rgba(0, 0, 0, 0)"]  # the Total row's swatch is transparent
    assert len(set(colours)) == len(colours) == k
    total = table["Total"]
    assert sum(classes.values()) == pytest.approx(total, abs=0.01 * k)  # rows are rounded to 0.01 ha
    assert total == pytest.approx(aoi_pixels * 0.01, rel=1e-3)  # a 10 m pixel is 0.01 ha
    assert total == pytest.approx(aoi_km2 * 100, rel=0.02)  # the pixels cover the drawn area

    # the cluster image covers the drawn rectangle and is drawn pixelated
    clusters = app.overlay("Clusters")
    assert "aef-crisp" in (clusters.get_attribute("class") or "")
    box = clusters.bounding_box()
    assert box["x"] == pytest.approx(min(a[0], b[0]), abs=6) and box["y"] == pytest.approx(min(a[1], b[1]), abs=6)
    assert box["width"] == pytest.approx(abs(b[0] - a[0]), abs=12)
    app.wait_text(app.panel("aef-layer-list"), "Clusters")  # listed once its row is drawn
    assert app.errors_shown() == []
    app.screenshot("05-clusters", for_docs=True)


def test_changing_the_year_updates_the_layers(app: App):
    app.open_tab("Similarity")
    app.page.mouse.click(*app.map_point(0.4, 0.6))
    app.wait_text(app.panel("aef-similarity-readout"), r"\d\.\d\d")
    rgb, similarity = app.overlay_src("RGB composite"), app.wait_overlay("Similarity")

    app.choose("Year", "2022")
    app.wait_overlay_changed("RGB composite", rgb)
    app.wait_overlay_changed("Similarity", similarity)
    assert re.search(r"\d\.\d\d", app.panel("aef-similarity-readout").inner_text())
    assert app.errors_shown() == []
    app.screenshot("06-year-2022")


def overlay_order(app: App) -> list[str]:
    """Our image overlays as Leaflet stacks them in the page, bottom first."""
    return app.page.eval_on_selector_all(
        ".aef-explorer .leaflet-overlay-pane img.leaflet-image-layer", "imgs => imgs.map((i) => i.alt)"
    )


def test_a_year_change_keeps_the_stacking_order(app: App):
    app.open_tab("Similarity")
    app.page.mouse.click(*app.map_point(0.5, 0.5))
    app.wait_overlay("Similarity matches")
    app.open_tab("Clusters")
    app.panel("aef-cluster-panel").get_by_role("button", name="Run k-means").click()
    app.wait_text(app.panel("aef-cluster-panel"), r"clusters of 2025 in the view")
    app.wait_overlay("Clusters")
    before = overlay_order(app)
    assert before.index("Clusters") > before.index("Similarity matches")  # asked for last: on top
    similarity = app.overlay_src("Similarity")
    app.choose("Year", "2022")
    app.wait_text(app.panel("aef-cluster-panel"), r"clusters of 2022 in the view")
    app.wait_overlay_changed("Similarity", similarity)
    app.page.wait_for_timeout(4000)  # the reported bug moved the matches above the clusters 3-4 s later
    after = overlay_order(app)
    assert after == before and after[0] == "RGB composite"
    assert app.errors_shown() == []
    app.screenshot("08-order-after-year")


def _truth_fractions(per_class: int = 4) -> dict[str, list[tuple[float, float]]]:
    """Points of three truth classes of the sample, as fractions of the data's box on screen (x right, y down)."""
    import numpy as np
    from pyproj import Transformer

    from aef_widgets import sample_source, sample_truth

    source, truth = sample_source(), sample_truth()
    grid, labels = source.grid(), truth.labels(source.years[-1])
    west, south, east, north = source.footprint.lonlat_bounds()
    to_grid = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True)
    found: dict[str, list[tuple[float, float]]] = {}
    rng = np.random.default_rng(3)
    for c in list(truth.class_names)[:3]:
        points: list[tuple[float, float]] = []
        while len(points) < per_class:
            fx, fy = rng.uniform(0.15, 0.85, 2)
            lon, lat = west + fx * (east - west), north - fy * (north - south)
            col, row = ~grid.transform @ to_grid.transform(lon, lat)
            r, k = int(row), int(col)
            window = labels[max(r - 3, 0) : r + 4, max(k - 3, 0) : k + 4]  # well inside one class
            if window.size and (window == c).all():
                points.append((float(fx), float(fy)))
        found[truth.class_names[c]] = points
    return found


def test_classify_tab_three_labelled_classes_show_the_class_map_and_accuracy(app: App):
    app.open_tab("Classify")
    panel = app.panel("aef-classify-panel")
    points = _truth_fractions()
    names = list(points)
    panel.get_by_placeholder("class name").fill(names[2])
    panel.get_by_role("button", name="Add class").click()
    app.wait_text(app.panel("aef-classify-legend"), names[2])
    for index, name in enumerate(names):
        label = name if index == 2 else f"Class {index + 1}"
        app.choose("Label as", label)
        for fx, fy in points[name]:
            app.page.mouse.click(*app.map_point(fx, fy))
        app.wait_text(app.panel("aef-classify-legend"), rf"{re.escape(label)}\s+{len(points[name])}\b")
    app.wait_text(panel, r"Classes of \d{4} in the view")
    app.wait_overlay("Classes")
    summary = app.wait_text(app.panel("aef-accuracy-summary"), r"Spatial blocks")
    assert "Random folds" in summary and re.search(r"\d+\.\d% ± \d+\.\d", summary), summary
    legend = app.panel("aef-classify-legend").inner_text()
    assert legend.count("%") <= 1 and re.search(r"[\d,]+\.\d\d", legend), legend  # hectares per class
    # the charts are widgets of their own, set after the summary: their messages may arrive after it is drawn
    panel.locator("svg[role=img]").first.wait_for()
    assert app.errors_shown() == []
    app.screenshot("07-classify")


def test_a_click_on_a_suggested_place_labels_it_once(app: App):
    """A suggestion ring is a Leaflet vector layer, whose click Leaflet also hands to the map; the panel used to drop
    map clicks for 0.5 s after a ring's click. The ring now keeps its click (``bubblingMouseEvents: false``): one
    click on a ring is one label, with no time window."""
    app.open_tab("Classify")
    panel, legend = app.panel("aef-classify-panel"), app.panel("aef-classify-legend")
    points = _truth_fractions(per_class=3)
    for index, name in enumerate(list(points)[:2]):
        app.choose("Label as", f"Class {index + 1}")
        for fx, fy in points[name]:
            app.page.mouse.click(*app.map_point(fx, fy))
        app.wait_text(legend, rf"Class {index + 1}\s+3\b")
    app.wait_text(panel, r"Classes of \d{4} in the view.* from 6 labels")
    panel.get_by_role("button", name="Suggest where to label next").click()
    rings = app.page.locator('.aef-explorer .leaflet-overlay-pane path[stroke-dasharray="4 3"]')
    rings.nth(7).wait_for()  # a layer's view is made asynchronously
    assert rings.count() == 8
    app.choose("Label as", "Class 1")
    rings.first.click()
    # the kernel handles a page's messages in order: once the box ticked after the click has its layer, every
    # message of the click (the ring's, and the map's if it had one) has been handled
    panel.get_by_label("Show confidence (top probability)").check()
    app.wait_overlay("Confidence")
    app.wait_text(panel, r"from ([7-9]|\d\d+) labels")  # the map of 6 labels may still be shown meanwhile
    assert re.search(r"Class 1\s+4\b", legend.inner_text()), legend.inner_text()  # one label, not two
    assert "from 7 labels" in panel.inner_text()
    assert app.errors_shown() == []


_TAB_TITLES_JS = """
() => [...document.querySelectorAll('.aef-explorer .aef-tabs > .lm-TabBar .lm-TabBar-tab')].map((tab) => {
  const label = tab.querySelector('.lm-TabBar-tabLabel');
  const box = tab.getBoundingClientRect(), text = label.getBoundingClientRect();
  const panel = tab.closest('.aef-side-panel').getBoundingClientRect();
  return {text: label.textContent, scroll: label.scrollWidth, client: label.clientWidth,
          inTab: text.left >= box.left && text.right <= box.right,
          inPanel: box.left >= panel.left - 1 && box.right <= panel.right + 1};
})
"""


def test_every_tab_title_is_shown_whole(app: App):
    """Seven tabs in a 380 px panel cut their titles to "Cluste", "Simila" (issue 22): at the default width, a
    laptop's and a Binder pane's, no title's text overflows its tab and every tab lies inside the panel.

    One page is resized to each width in turn (it was a page and a kernel per width: the layout follows the
    viewport, not the kernel, and each check waits for the resize as before)."""
    for width in (1400, 1024, 800):
        app.page.set_viewport_size({"width": width, "height": 800})
        app.page.wait_for_timeout(300)  # the panel's layout follows the resize
        titles = app.page.evaluate(_TAB_TITLES_JS)
        assert [t["text"] for t in titles] == [
            "Layers", "AOI", "Clusters", "Similarity", "Change", "Time", "Classify", "Index", "Fields",
        ], width  # fmt: skip
        for t in titles:
            assert t["scroll"] <= t["client"] and t["inTab"] and t["inPanel"], (width, t)
        app.screenshot(f"09-tabs-{width}px")
    app.open_tab("Similarity")  # and a tab is still opened by its title
    # offline (tests/conftest.py points the release at a closed loopback port), real places are not offered, in words
    row = app.page.locator(".aef-real-places")  # above the explorer, in the app's page
    places = app.wait_text(row, r"Offline")
    assert "could not be reached" in places and "synthetic sample" in places, places
    assert row.get_by_role("button", name="Farmland, Iowa").is_disabled()


def test_one_draw_tool_in_every_tab_and_its_word_follows_the_tab(app: App):
    """Issue 22: the Classify tab added a second draw toolbar at the top right. One toolbar on every tab, and the
    word beside it says what drawing does there; a rectangle drawn on the Classify tab labels, it sets no AOI."""
    toolbars = app.page.locator(".aef-explorer .leaflet-draw.leaflet-control")
    hint = app.page.locator(".aef-explorer .leaflet-widgetcontrol .aef-draw-hint")
    for title in ("Layers", "AOI", "Clusters", "Similarity", "Change", "Time", "Classify"):
        app.open_tab(title)
        words = "labels Class 1" if title == "Classify" else "sets the AOI"
        app.wait_text(hint, words)
        assert toolbars.count() == 1, title
    draw_rectangle(app, app.map_point(0.3, 0.3), app.map_point(0.45, 0.45))
    app.wait_text(app.panel("aef-classify-legend"), r"Class 1\s+[1-9]\d*\b")
    assert "No AOI" in app.panel("aef-aoi-drawer").inner_text()
    assert app.errors_shown() == []
    app.screenshot("10-one-draw-tool")


def test_the_time_chart_labels_every_year_and_its_marker_leaves_with_the_tab(app: App):
    """Issue 22: year ticks skipped years, the legend box covered points, and the yellow pixel marker stayed on the
    map after leaving the Time tab."""
    from aef_widgets.widgets.time_series import PIXEL_COLOR

    app.open_tab("Time")
    app.page.mouse.click(*app.map_point(0.4, 0.6))
    chart = app.panel("aef-time-series")
    app.wait_text(app.panel("aef-trajectory-summary"), r"least like 2025")
    app.assert_year_chart(chart, app.panel("aef-time-legend"), range(2018, 2026))
    marker = app.page.locator(f'.aef-explorer path.leaflet-interactive[fill="{PIXEL_COLOR}"]')
    marker.first.wait_for()  # a layer's view is made asynchronously
    assert marker.count() == 1
    app.screenshot("11-time-chart-ticks")
    app.open_tab("Similarity")
    app.page.wait_for_function(f"() => !document.querySelector('path.leaflet-interactive[fill=\"{PIXEL_COLOR}\"]')")
    app.open_tab("Time")
    marker.wait_for()
    assert app.errors_shown() == []
