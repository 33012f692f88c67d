"""Typed places: a point or a box in degrees, or a message saying what is wrong."""

from __future__ import annotations

import pytest

from aef_widgets.core.errors import AOIError
from aef_widgets.core.place import Place, parse_place


@pytest.mark.parametrize("text", ["-84.03, 44.0", " -84.03 44.0 ", "-84.03;44", "-8.403e1, 4.4e1"])
def test_a_point_in_any_separator(text):
    place = parse_place(text)
    assert place == Place(-84.03, 44.0, -84.03, 44.0) and place.is_point and place.center == (-84.03, 44.0)


def test_a_box():
    place = parse_place("-84.1, 43.9, -83.9, 44.1")
    assert place.bounds == (-84.1, 43.9, -83.9, 44.1) and not place.is_point
    assert place.center == pytest.approx((-84.0, 44.0))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "type a place"),
        ("abc, 44", "'abc' is not a number"),
        ("1, 2, 3", "3 numbers given"),
        ("44.0, -100", r"latitude -100 is outside -90..90 degrees \(longitude comes first"),
        ("200, 10", "longitude 200 is outside -180..180"),
        ("-83.9, 43.9, -84.1, 44.1", r"west \(-83.9\) must be less than east"),
        ("-84.1, 44.1, -83.9, 43.9", r"south \(44.1\) must be less than north"),
        ("-84, 95, -83, 96", "south 95 is outside"),
        ("nan, 1", "'nan' is not a number"),
        ("1e999, 1", "finite"),
    ],
)
def test_bad_places_say_what_is_wrong(text, message):
    with pytest.raises(AOIError, match=message):
        parse_place(text)
