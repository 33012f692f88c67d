"""PlaceFinder: a typed place moves the map there; a typo is explained and the map stays put."""

from __future__ import annotations

import pytest

from aef_widgets.explorer import Explorer
from aef_widgets.widgets import JobRunner, PlaceFinder
from tests.widgets.frontend import send_custom, send_state


def test_a_point_centres_the_map_and_a_box_fits_it(state, fresh_map, runner):
    finder = PlaceFinder(state, map=fresh_map, runner=runner)
    finder.text.value = "-88.77, 44.29"
    finder.go.click()
    assert tuple(fresh_map.center) == pytest.approx((44.29, -88.77)) and fresh_map.zoom == 15
    assert finder.value.is_point and finder.status.value == ""


def test_a_typo_is_explained_and_the_map_does_not_move(state, fresh_map, runner):
    finder = PlaceFinder(state, map=fresh_map, runner=runner)
    before = tuple(fresh_map.center)
    finder.text.value = "44.29, -188.77"
    finder.go_to_text()
    assert tuple(fresh_map.center) == before and finder.value is None
    assert "#b00020" in finder.status.value and "longitude" in finder.status.value.lower()


def test_enter_that_arrives_before_its_text_still_goes_there(state, fresh_map, runner):
    """While a widget's last update is unanswered (a busy kernel), ipywidgets' frontend holds back its next updates
    but sends its messages at once (``_msg_buffer`` in @jupyter-widgets/base's ``sync``; ``send`` is not held), so
    the "submit" of Enter could arrive before the last keys typed, and the map went to a partial text or nowhere."""
    finder = PlaceFinder(state, map=fresh_map, runner=runner)
    send_custom(finder.text, {"event": "submit"})  # Enter, with the text not yet here
    send_state(finder.text, {"value": "-88.77, 44.29"})  # the text, once the kernel is idle
    assert tuple(fresh_map.center) == pytest.approx((44.29, -88.77)) and fresh_map.zoom == 15
    assert finder.value.is_point and finder.status.value == ""  # the first submit's "type a place" is gone


def test_a_box_emptied_and_left_is_cleared_not_an_error_but_go_on_it_explains(state, fresh_map, runner):
    finder = PlaceFinder(state, map=fresh_map, runner=runner)
    send_state(finder.text, {"value": "44.29, -188.77"})  # a typo, explained
    assert "#b00020" in finder.status.value
    before = tuple(fresh_map.center)
    send_state(finder.text, {"value": "  "})  # the user clears the box and clicks elsewhere
    assert finder.status.value == "" and tuple(fresh_map.center) == before
    send_custom(finder.text, {"event": "submit"})  # Enter on the empty box: asked to go, told how
    assert "type a place" in finder.status.value and tuple(fresh_map.center) == before


def test_the_explorer_opens_at_its_start_place(real_source):
    explorer = Explorer(real_source, runner=JobRunner.inline(), start="-88.771, 44.296")
    assert tuple(explorer.map.center) == pytest.approx((44.296, -88.771))
    assert explorer.place.value.center == pytest.approx((-88.771, 44.296))


def test_maps_jump_back_to_the_main_copy_of_the_world(real_source):
    from aef_widgets.widgets import make_map

    # Leaflet then reports bounds within -180..180, where the layers are drawn, instead of lon -448
    assert make_map(real_source).world_copy_jump is True
