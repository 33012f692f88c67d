"""The Time tab in a real browser: the chart of a clicked pixel, a click on the chart, two years side by side."""

from __future__ import annotations

import re

import pytest

from tests.ui.app import App

pytestmark = pytest.mark.ui


def test_a_map_click_charts_the_pixel_and_a_chart_click_sets_the_year(app: App):
    page = app.page
    app.open_tab("Time")
    assert not app.panel("aef-time-series").locator(".bqplot").is_visible()  # no empty chart before a click
    page.mouse.click(*app.map_point(0.4, 0.6))
    chart = app.panel("aef-time-series")
    app.wait_text(app.panel("aef-trajectory-summary"), r"least like 2025")
    dots = chart.locator("svg .dot")
    page.wait_for_function("(el) => el.querySelectorAll('svg .dot').length === 8", arg=chart.element_handle())
    # the point of 2018 is the leftmost: clicking it makes 2018 the year shown and the chart's reference
    boxes = [d.bounding_box() for d in dots.all()]
    leftmost = min(range(len(boxes)), key=lambda i: boxes[i]["x"])
    dots.nth(leftmost).click(force=True)
    year = page.locator(".aef-explorer .aef-year-picker").get_by_label("Year", exact=True)
    page.wait_for_function("(el) => el.value === '2018'", arg=year.element_handle())
    app.wait_text(app.panel("aef-trajectory-summary"), r"least like 2018")
    assert re.search(r"Similarity to 2018", chart.inner_text())
    assert app.errors_shown() == []
    app.screenshot("20-time-chart")


def test_two_years_side_by_side_are_clipped_apart(app: App):
    page = app.page
    app.open_tab("Time")
    app.panel("aef-side-by-side").get_by_text("Compare two years side by side").click()
    for name in ("Left year", "Right year"):
        app.wait_overlay(name)
    clips = page.evaluate(
        "() => ['aef-left', 'aef-right'].map((p) => document.querySelector(`.leaflet-${p}-pane`).style.clip)"
    )
    # each side's pane is clipped on its own, on either side of the divider
    rects = [[float(x) for x in re.findall(r"-?[\d.]+", clip)] for clip in clips]
    assert all(len(r) == 4 for r in rects), clips
    (top_l, right_l, _, left_l), (top_r, right_r, _, left_r) = rects
    assert right_l == pytest.approx(left_r) and left_l < right_l < right_r
    assert app.overlay("Left year").get_attribute("src") != app.overlay("Right year").get_attribute("src")
    assert app.errors_shown() == []
    app.screenshot("21-side-by-side")
