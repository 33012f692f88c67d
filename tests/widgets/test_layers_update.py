"""Year and band changes redraw exactly the layers that depend on them."""

from __future__ import annotations

import numpy as np

from aef_widgets.explorer import Explorer
from aef_widgets.widgets import JobRunner
from tests.widgets.frontend import click, draw, rectangle, rgba


def layer_urls(m) -> dict[str, str]:
    return {x.name: getattr(x, "url", None) or repr(getattr(x, "data", None) or x.layers) for x in m.layers}


def build(two_year_source):
    explorer = Explorer(two_year_source, runner=JobRunner.inline())
    m = explorer.map
    west, south, east, north = two_year_source.footprint.lonlat_bounds()
    draw(explorer.aoi.draw_control, rectangle(west + 0.001, south + 0.001, east - 0.001, north - 0.001))
    explorer.clusters.run.click()
    explorer.tabs.selected_index = 3
    click(m, (west + east) / 2, (south + north) / 2)
    explorer.change.show_map.value = True
    return explorer


def test_band_change_redraws_only_the_rgb_layer(two_year_source):
    explorer = build(two_year_source)
    before = layer_urls(explorer.map)
    explorer.bands.red.value = "A30"
    after = layer_urls(explorer.map)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"RGB composite"}


def test_year_change_redraws_every_single_year_product_and_nothing_else(two_year_source):
    explorer = build(two_year_source)
    before = layer_urls(explorer.map)
    explorer.year.dropdown.value = 2023
    after = layer_urls(explorer.map)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"RGB composite", "Clusters", "Similarity", "Similarity matches"}


def test_rgb_overlay_shows_the_stretched_bands(real_source, fresh_map):
    from aef_widgets.widgets import BandRGBSelector, ExplorerState

    selector = BandRGBSelector(ExplorerState(real_source), map=fresh_map, runner=JobRunner.inline())
    image = rgba(next(x for x in fresh_map.layers if x.name == "RGB composite").url)
    opaque = image[image[..., 3] == 255][:, :3]
    field = real_source.read(None, 2024)
    expected = np.round(np.clip((field.values[..., [1, 16, 9]] + 0.3) / 0.6, 0, 1) * 255).reshape(-1, 3)
    # every colour on the map is the colour of some pixel of the raster (nearest resampling, no blending)
    expected_set = {tuple(p) for p in expected.astype(np.uint8)}
    assert {tuple(p) for p in opaque} <= expected_set
    assert selector.value.bands == ("A01", "A16", "A09")


def test_pca_preset_and_bad_stretch(real_source, fresh_map):
    from aef_widgets.analysis import PCAStretch
    from aef_widgets.widgets import BandRGBSelector, ExplorerState

    state = ExplorerState(real_source)
    selector = BandRGBSelector(state, map=fresh_map, runner=JobRunner.inline())
    url = next(x for x in fresh_map.layers if x.name == "RGB composite").url
    selector.preset.value = "Principal components"
    assert isinstance(state.rgb_style, PCAStretch) and selector.red.disabled
    assert next(x for x in fresh_map.layers if x.name == "RGB composite").url != url
    selector.preset.value = "Custom bands"
    selector.stretch.value = (0.1, 0.1)
    assert "min &lt; max" in selector.status.value
    assert state.rgb_style.vmin < state.rgb_style.vmax


def test_slider_float_steps_from_the_browser_keep_the_standard_preset(real_source):
    from aef_widgets.widgets import BandRGBSelector, ExplorerState
    from tests.widgets.frontend import send_state

    selector = BandRGBSelector(ExplorerState(real_source), runner=JobRunner.inline())
    send_state(selector.stretch, {"value": [-1 + 70 * 0.01, -1 + 130 * 0.01]})  # what the slider sends back
    assert selector.preset.value.startswith("Standard")


def test_a_new_result_is_drawn_above_older_ones(two_year_source):
    explorer = build(two_year_source)  # clusters, then similarity, then change
    names = [x.name for x in explorer.map.layers]
    assert names.index("RGB composite") < names.index("Clusters") < names.index("Similarity") < names.index("Change")
    explorer.clusters.run.click()
    names = [x.name for x in explorer.map.layers]
    assert names.index("Clusters") > max(names.index(n) for n in ("Similarity", "Similarity matches", "Change"))
    assert names[-2:] == ["AOI", "Similarity references"]  # outlines and markers stay on top


def test_threshold_highlights_start_half_transparent(two_year_source):
    explorer = build(two_year_source)
    opacity = {x.name: getattr(x, "opacity", None) for x in explorer.map.layers}
    assert opacity["Similarity matches"] == opacity["Changed pixels"] == 0.6
    assert opacity["Similarity"] == opacity["Clusters"] == opacity["RGB composite"] == 1.0
