"""LabelPicker on its own: labels made by map clicks and drawn shapes, listed, removed, saved and loaded, driven with
the messages the browser sends (map clicks, draw events, selections, button clicks, uploads) on the real AEF tile
(tests/data/aef-real: 96 x 96 pixels of the public release, int8, Wisconsin 2024). Saved vectors are checked
against the tile read with rasterio and dequantized as the release documents, ``sign(q) * (q / 127.5)²``."""

from __future__ import annotations

import json

import numpy as np
import rasterio
from pyproj import Transformer

from aef_widgets.widgets import ExplorerState
from aef_widgets.widgets.draw_tool import DrawTool
from aef_widgets.widgets.flow import Flow
from aef_widgets.widgets.label_picker import LabelPicker
from tests.conftest import REAL_INT8
from tests.widgets.frontend import click, draw, rectangle, send_custom, send_state, upload
from tests.widgets.test_panel_close import state_observers, subscriptions
from tests.widgets.test_similarity_probe import pixel_lonlat


def pixel_of(lon: float, lat: float) -> tuple[float, float]:
    """(row, col) of a lon/lat on the tile, fractional: a pixel centre is at .5."""
    with rasterio.open(REAL_INT8) as ds:
        x, y = Transformer.from_crs("EPSG:4326", ds.crs, always_xy=True).transform(lon, lat)
        col, row = ~ds.transform @ (x, y)
    return row, col


def vector_at(lon: float, lat: float) -> np.ndarray:
    row, col = (int(v) for v in pixel_of(lon, lat))
    with rasterio.open(REAL_INT8) as ds:
        q = ds.read(window=((row, row + 1), (col, col + 1)))[:, 0, 0].astype(np.float64)
    return np.sign(q) * (q / 127.5) ** 2


def test_clicks_label_with_the_target_class_and_off_the_data_nothing_is_labelled(state, fresh_map, runner):
    picker = LabelPicker(state, map=fresh_map, runner=runner)
    assert [name for name, _ in state.label_classes] == ["Class 1", "Class 2"]  # a picker alone starts two classes
    assert picker.status in picker.children  # alone, it shows its own status line
    first, second = pixel_lonlat(10, 20), pixel_lonlat(60, 70)
    click(fresh_map, *first)
    picker.target = 1  # what its owner's "Label as" sets
    click(fresh_map, *second)
    assert [(p.lon, p.lat, p.target, p.year) for p in state.class_labels] == [
        (*first, 0, state.year), (*second, 1, state.year)
    ]  # fmt: skip
    assert picker.value == state.class_labels
    assert [text for text, _ in picker.label_list.options] == [
        f"Class 1 at {first[0]:.5f}, {first[1]:.5f}", f"Class 2 at {second[0]:.5f}, {second[1]:.5f}"
    ]  # fmt: skip
    dots = picker.marks.layer.layers
    assert [d.fill_color for d in dots] == [state.label_classes[0][1], state.label_classes[1][1]]
    west, south, _, _ = state.source.footprint.lonlat_bounds()
    click(fresh_map, west - 0.01, south - 0.01)
    assert len(state.class_labels) == 2 and "1 of 1 points lie outside the data" in picker.notice.value
    send_state(picker.picking, {"value": False})
    click(fresh_map, *pixel_lonlat(30, 30))
    assert len(state.class_labels) == 2 and DrawTool.of(fresh_map).user is None


def test_a_drawn_rectangle_labels_distinct_valid_pixel_centres_inside_it(state, fresh_map, runner):
    picker = LabelPicker(state, map=fresh_map, runner=runner, polygon_pixels=12)
    picker.target = 1
    assert "labels Class 2" in DrawTool.of(fresh_map).hint.value  # the word beside the tool follows the class
    (w1, n1), (e1, s1) = pixel_lonlat(20, 20), pixel_lonlat(40, 45)
    draw(DrawTool.of(fresh_map).control, rectangle(w1, s1, e1, n1))
    labels = state.class_labels
    assert len(labels) == 12 and {p.target for p in labels} == {1}
    pixels = [pixel_of(p.lon, p.lat) for p in labels]
    np.testing.assert_allclose(np.mod(pixels, 1.0), 0.5, atol=1e-6)  # pixel centres
    assert len({(int(r), int(c)) for r, c in pixels}) == 12
    assert all(w1 <= p.lon <= e1 and s1 <= p.lat <= n1 for p in labels)
    assert "12 pixels of the polygon labelled" in picker.status.value


def test_selected_labels_are_removed_and_clear_removes_all(state, fresh_map, runner):
    picker = LabelPicker(state, map=fresh_map, runner=runner)
    points = [pixel_lonlat(10 * i, 10 * i) for i in range(1, 5)]
    for lon, lat in points:
        click(fresh_map, lon, lat)
    send_state(picker.label_list, {"index": [0, 2]})
    send_custom(picker.remove_button, {"event": "click"})
    assert [(p.lon, p.lat) for p in state.class_labels] == [points[1], points[3]]
    send_custom(picker.clear_button, {"event": "click"})
    assert state.class_labels == [] and picker.label_list.options == () and picker.marks.layer is None


def test_saved_labels_carry_class_colour_year_and_the_tile_s_vector_and_load_back(state, fresh_map, runner, tmp_path):
    picker = LabelPicker(state, map=fresh_map, runner=runner, folder=lambda: tmp_path)
    send_custom(picker.save_button, {"event": "click"})
    assert "no labels to save" in picker.status.value and not list(tmp_path.iterdir())
    state.label_classes = [("water", "#1f77b4"), ("forest", "#2ca02c")]
    points = [pixel_lonlat(15, 25), pixel_lonlat(70, 40)]
    for target, (lon, lat) in enumerate(points):
        picker.target = target
        click(fresh_map, lon, lat)
    send_custom(picker.save_button, {"event": "click"})
    path = tmp_path / f"aef_labels_{state.year}.geojson"
    assert f'download="{path.name}"' in picker.download.value and "2 labels saved" in picker.status.value
    features = json.loads(path.read_text())["features"]
    for feature, (lon, lat), (name, color) in zip(features, points, state.label_classes, strict=True):
        props = feature["properties"]
        assert (props["class"], props["color"], props["year"]) == (name, color, state.year)
        np.testing.assert_allclose([props[f"A{i:02d}"] for i in range(64)], vector_at(lon, lat), rtol=1e-6)
    # another picker, on a state with a class of its own, loads the file: classes matched by name, new ones added
    other = ExplorerState(state.source, label_classes=[("forest", "#000000")])
    loaded = LabelPicker(other, runner=runner)
    upload(loaded.upload, path.name, path.read_bytes())
    assert other.label_classes == [("forest", "#000000"), ("water", "#1f77b4")]
    assert [(p.lon, p.lat, other.label_classes[p.target][0]) for p in other.class_labels] == [
        (*points[0], "water"), (*points[1], "forest")
    ]  # fmt: skip
    assert "2 labels loaded" in loaded.status.value


def test_a_closed_picker_leaves_state_flow_and_map_as_before_and_no_longer_labels(state, fresh_map, runner):
    flow = Flow.of(state)
    state.label_classes = [("a", "#111111"), ("b", "#222222")]
    before = (subscriptions(flow), state_observers(state), len(fresh_map._interaction_callbacks.callbacks))
    picker = LabelPicker(state, map=fresh_map, runner=runner)
    picker.close()
    assert (subscriptions(flow), state_observers(state), len(fresh_map._interaction_callbacks.callbacks)) == before
    click(fresh_map, *pixel_lonlat(10, 10))
    assert state.class_labels == []
