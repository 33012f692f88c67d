"""SideBySide draws two years in panes of their own, so the split control clips each overlay on its own side."""

from __future__ import annotations

import numpy as np
import pytest

from aef_widgets.sources.sample import sample_source
from aef_widgets.widgets import ExplorerState, SideBySide, make_map
from tests.widgets.frontend import rgba, send_state


@pytest.fixture(scope="module")
def sample():
    return sample_source()


def show_whole_sample(m, source) -> None:
    """What the browser sends once the map is on screen: its bounds, in pixels and degrees."""
    west, south, east, north = source.footprint.lonlat_bounds()
    send_state(m, {"bounds": [[south, west], [north, east]], "pixel_bounds": [[0, 0], [800, 600]],
                   "center": [(south + north) / 2, (west + east) / 2]})  # fmt: skip


def test_two_years_in_two_panes_of_one_split_control(sample, runner):
    m = make_map(sample)
    show_whole_sample(m, sample)
    state = ExplorerState(sample)
    panel = SideBySide(state, map=m, runner=runner)
    assert panel.value == (2018, 2025) and panel.left_layer.url == ""  # nothing is drawn until asked
    assert panel.split_map not in panel.children
    panel.show_split.value = True
    assert panel.split_map in panel.children
    control = panel.control
    assert control in panel.split_map.controls
    assert control.left_layer is panel.left_layer and control.right_layer is panel.right_layer
    assert (panel.left_layer.pane, panel.right_layer.pane) == ("aef-left", "aef-right")
    assert set(panel.split_map.panes) == {"aef-left", "aef-right"}  # the panes exist when the map is first shown
    left, right = rgba(panel.left_layer.url), rgba(panel.right_layer.url)
    assert left.shape == right.shape and (left[..., 3] == 255).mean() > 0.5
    # the same pixels as the RGB layer of each year draws for this view
    view = state.view
    expected = rgba(state.engine.rgb(2018, state.rgb_style, view).layer(state.engine.context, view).url)
    np.testing.assert_array_equal(left, expected)
    assert not np.array_equal(left, right)  # 2018 and 2025 differ where events were planted
    panel.right.value = 2018
    np.testing.assert_array_equal(rgba(panel.right_layer.url), left)
    assert panel.computed.computations == 2


def test_it_follows_the_main_map(sample, runner):
    m = make_map(sample)
    panel = SideBySide(ExplorerState(sample), map=m, runner=runner)
    m.zoom = 15
    m.center = (44.3, -88.8)
    assert panel.split_map.zoom == 15 and tuple(panel.split_map.center) == (44.3, -88.8)
