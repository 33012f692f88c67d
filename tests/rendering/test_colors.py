"""Highlights and outlines stay apart from every class colour, so they never blend into a layer under them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from aef_widgets.rendering.colors import (
    AOI_COLOR,
    CATEGORICAL_HEX,
    CHANGED_COLOR,
    MATCH_COLOR,
    PROBE_COLOR,
    hex_to_rgba,
)
from aef_widgets.widgets.aoi_drawer import AOI_STYLE

HIGHLIGHTS = {"matches": MATCH_COLOR, "changed": CHANGED_COLOR, "aoi": AOI_COLOR, "probe": PROBE_COLOR}


def rgb(color: str) -> np.ndarray:
    return np.array(hex_to_rgba(color)[:3], dtype=float)


@pytest.mark.parametrize(("name", "color"), HIGHLIGHTS.items())
def test_no_highlight_is_close_to_a_class_colour(name, color):
    nearest = min(np.linalg.norm(rgb(color) - rgb(c)) for c in CATEGORICAL_HEX)
    assert nearest > 50, f"{name} {color} is {nearest:.0f} from a class colour"


def test_highlights_differ_from_each_other_and_the_aoi_is_drawn_in_its_colour():
    for a, b in itertools.combinations(HIGHLIGHTS.values(), 2):
        assert np.linalg.norm(rgb(a) - rgb(b)) > 50
    assert AOI_STYLE["color"] == AOI_COLOR
