"""The explorer app as a person sees it in the browser: tabs, labelled controls, overlay images, readouts."""

from __future__ import annotations

import os
import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import Locator, Page

#: The README's picture of the app, refreshed from a screenshot when ``AEF_UPDATE_DOCS_SCREENSHOT`` is set.
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "explorer.png"

#: Words an icon font draws as a glyph (Material Symbols ligatures, Font Awesome names); shown as text when the font
#: is missing, as offline or behind a firewall.
ICON_WORDS = (
    "search", "layers", "close", "fullscreen", "fullscreen_exit", "settings", "build", "map", "point_scan", "add",
    "remove", "menu", "info", "help", "home", "delete", "edit", "done", "check", "visibility", "visibility_off",
    "expand_more", "expand_less", "chevron_left", "chevron_right", "arrow_drop_down", "zoom_in", "zoom_out", "gear",
    "times", "info-circle", "upload", "download", "palette", "tune", "more_vert", "travel_explore",
)  # fmt: skip

_VISIBLE_TEXT_JS = """
(words) => {
  const bad = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    const el = walker.currentNode.parentElement;
    if (!text || !el || el.closest('style, script, noscript, template, title')) continue;
    if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
    const box = el.getBoundingClientRect();
    if (box.width < 2 || box.height < 2) continue;  // visually hidden text for screen readers
    if (text.split(/\\s+/).every((t) => words.includes(t))) bad.push(text);
  }
  return bad;
}
"""


class App:
    """Drives the explorer page; every wait is for something the user would see."""

    def __init__(self, page: Page, artifacts: Path) -> None:
        self.page = page
        self.artifacts = artifacts
        self.page_errors: list[str] = []
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    @classmethod
    def open(cls, page: Page, url: str, artifacts: Path) -> App:
        app = cls(page, artifacts)
        # tiles, fonts and CDN files never arrive offline, so "load" may never come: the DOM is enough
        page.goto(url, wait_until="domcontentloaded")
        page.locator(".aef-explorer .aef-side-panel").wait_for(state="visible")
        app.wait_overlay("RGB composite")
        return app

    # the map ----------------------------------------------------------------------------------------------------
    def overlay(self, name: str) -> Locator:
        """The <img> of one of our image overlays, found by its alternative text (the layer's name)."""
        return self.page.locator(f'.aef-explorer img.leaflet-image-layer[alt="{name}"]')

    def wait_overlay(self, name: str) -> str:
        """Wait until the overlay is drawn (a decoded PNG); returns its src."""
        self.overlay(name).wait_for(state="visible")
        self.page.wait_for_function(
            "(img) => img.src.startsWith('data:image/png') && img.complete && img.naturalWidth > 0",
            arg=self.overlay(name).element_handle(),
        )
        return self.overlay_src(name)

    def overlay_src(self, name: str) -> str:
        return self.overlay(name).get_attribute("src") or ""

    def wait_overlay_changed(self, name: str, before: str) -> str:
        self.page.wait_for_function(
            '([name, before]) => { const img = document.querySelector(`.aef-explorer img[alt="${name}"]`);'
            " return img && img.src !== before && img.complete && img.naturalWidth > 0; }",
            arg=[name, before],
        )
        return self.overlay_src(name)

    def map_point(self, fx: float, fy: float) -> tuple[float, float]:
        """Page coordinates of a point inside the data, as fractions of the RGB overlay's box."""
        box = self.overlay("RGB composite").bounding_box()
        assert box is not None, "the RGB overlay has no box"
        return box["x"] + fx * box["width"], box["y"] + fy * box["height"]

    # the panel --------------------------------------------------------------------------------------------------
    def open_tab(self, title: str) -> None:
        tab = self.page.locator(".aef-explorer .lm-TabBar-tab", has=self.page.get_by_text(title, exact=True))
        tab.click()
        self.page.wait_for_function("(tab) => tab.getAttribute('aria-selected') === 'true'", arg=tab.element_handle())

    def panel(self, css_class: str) -> Locator:
        return self.page.locator(f".aef-explorer .{css_class}")

    def wait_text(self, locator: Locator, pattern: str) -> str:
        """Wait until the element's text matches ``pattern`` (a regular expression); returns the text."""
        self.page.wait_for_function(
            "([el, pattern]) => new RegExp(pattern).test(el.innerText)", arg=[locator.element_handle(), pattern]
        )
        return locator.inner_text()

    def choose(self, label: str, value: str) -> None:
        """Pick an option of the dropdown with this visible label."""
        self.page.locator(".aef-explorer").get_by_label(label, exact=True).select_option(value)

    # checks -----------------------------------------------------------------------------------------------------
    def icon_words_shown(self) -> list[str]:
        """Visible text made only of icon names: an icon whose font is missing."""
        return self.page.evaluate(_VISIBLE_TEXT_JS, list(ICON_WORDS))

    def errors_shown(self) -> list[str]:
        """Errors a user would see: Voila's cell errors, tracebacks, stderr, our panels' error lines."""
        found = []
        body = self.page.locator("body").inner_text()
        for phrase in ("There was an error when executing cell", "Traceback", "Something went wrong"):
            if phrase in body:
                found.append(phrase)
        stderr = self.page.locator('[data-mime-type="application/vnd.jupyter.stderr"]')
        found += stderr.all_inner_texts()
        found += self.page.locator(".aef-explorer .aef-status span[style*='#b00020']").all_inner_texts()
        return found + self.page_errors

    def assert_year_chart(self, chart: Locator, legend: Locator, years: range) -> None:
        """A ``YearChart`` as drawn (the Time tab's, a field's): a point for every year, every year labelled on the
        axis at an integer tick, and the legend under every point, not over one (issue 22)."""
        self.page.wait_for_function(
            "([el, n]) => el.querySelectorAll('svg .dot').length === n", arg=[chart.element_handle(), len(years)]
        )
        axis = chart.locator("svg .axis").first
        ticks = axis.locator(".tick text").evaluate_all("els => els.map((e) => e.textContent)")
        assert ticks == [str(y) for y in years], ticks
        dots = [d.bounding_box() for d in chart.locator("svg .dot").all()]
        box = legend.bounding_box()
        assert box["height"] > 0 and all(box["y"] >= d["y"] + d["height"] for d in dots)  # under every point

    def screenshot(self, name: str, *, for_docs: bool = False) -> Path:
        """Save the page to ``test-artifacts/ui/<name>.png``; ``for_docs`` also refreshes the README's picture.

        The README's copy changes only on request, so test runs never change a tracked file; 256 colours keep it
        about half the size.
        """
        path = self.artifacts / f"{name}.png"
        self.page.screenshot(path=path)
        if for_docs and os.environ.get("AEF_UPDATE_DOCS_SCREENSHOT"):
            DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
            image = Image.open(path).convert("RGB").quantize(256, dither=Image.Dither.NONE)
            image.save(DOCS_SCREENSHOT, optimize=True)
        return path


def number(text: str) -> float:
    """A number as the panels print it ("1,234.56")."""
    return float(text.replace(",", ""))


def first_number_after(label: str, text: str) -> float:
    match = re.search(re.escape(label) + r"\D*([\d,]+(?:\.\d+)?)", text)
    assert match, f"no number after {label!r} in {text!r}"
    return number(match.group(1))
