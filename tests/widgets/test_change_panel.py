"""ChangePanel finds a planted change and measures its area."""

from __future__ import annotations

import numpy as np
import pytest

from aef_widgets.analysis import change
from aef_widgets.core.aoi import AOI
from aef_widgets.widgets import ChangePanel, ExplorerState
from tests.widgets.frontend import rgba


def test_change_map_and_area_match_the_planted_change(two_year_source, planted_change, fresh_map, runner):
    state = ExplorerState(two_year_source)
    panel = ChangePanel(state, map=fresh_map, runner=runner)
    assert panel.value == (2023, 2024)
    magnitude = change(two_year_source.read(None, 2023), two_year_source.read(None, 2024))
    # pick the threshold from the data, then check the panel's area equals the counted pixels
    state.change_threshold = 0.2
    found = magnitude >= 0.2
    overlap = np.count_nonzero(found & planted_change) / np.count_nonzero(found | planted_change)
    assert overlap > 0.5  # the planted block dominates what changed
    assert f"{np.count_nonzero(found) * 0.01:,.1f} ha" in panel.changed.value
    names = {x.name for x in fresh_map.layers}
    assert {"Change", "Changed pixels"} <= names
    image = rgba(next(x for x in fresh_map.layers if x.name == "Changed pixels").url)
    assert (image[..., 3] == 255).any()


def test_area_in_an_aoi_uses_native_pixels(two_year_source, fresh_map, runner):
    west, south, east, north = two_year_source.footprint.lonlat_bounds()
    aoi = AOI.from_bounds(west + 0.002, south + 0.002, east - 0.003, north - 0.001)
    state = ExplorerState(two_year_source, aoi=aoi)
    panel = ChangePanel(state, map=fresh_map, runner=runner)
    magnitude = change(two_year_source.read(aoi, 2023), two_year_source.read(aoi, 2024))
    expected = np.count_nonzero(magnitude >= state.change_threshold) * 0.01
    assert f"{expected:,.1f} ha" in panel.changed.value and "in the AOI at 10 m" in panel.changed.value


def test_same_year_twice_is_refused_in_words(two_year_source, runner):
    state = ExplorerState(two_year_source)
    panel = ChangePanel(state, runner=runner)
    panel.after.value = 2023
    assert "two different years" in panel.status.value and panel.product is None
    with pytest.raises(Exception, match="no data for 2019"):
        state.change_years = (2019, 2024)
