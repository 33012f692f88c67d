"""The classify panel driven as the browser drives it (map clicks, drawn shapes, uploads) on the bundled sample,
checked against its ground truth and against scikit-learn on the same labels and folds."""

from __future__ import annotations

import datetime
import json
import time

import numpy as np
import pytest
from pyproj import Transformer
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import cross_val_predict, cross_val_score

from aef_widgets import AOI, EmbeddingClassifier, random_folds, sample_source, sample_truth, spatial_folds
from aef_widgets.explorer import TAB_TITLES, Explorer
from aef_widgets.sources.export import LABEL_NODATA
from aef_widgets.widgets import ClassifyPanel, ExplorerState, JobRunner, make_map
from aef_widgets.widgets.base import VIEW_DEBOUNCE_S
from aef_widgets.widgets.draw_tool import DrawTool
from aef_widgets.widgets.ui_loop import UILoop
from tests.widgets.frontend import ManualExecutor, click, draw, rectangle, rgba, send_custom

YEAR = 2024
#: The truth classes labelled, in the panel's order: index 0, 1, 2.
TRUTH_CLASSES = (0, 1, 2)


@pytest.fixture(scope="module")
def sample():
    return sample_source(), sample_truth()


def truth_points(sample, n: int, seed: int = 0) -> dict[int, list[tuple[float, float]]]:
    """``n`` random pixel centres (lon, lat) of each labelled truth class."""
    source, truth = sample
    grid, labels = source.grid(), truth.labels(YEAR)
    rng = np.random.default_rng(seed)
    to_lonlat = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    found = {}
    for c in TRUTH_CLASSES:
        rows, cols = np.divmod(rng.choice(np.flatnonzero(labels.ravel() == c), n, replace=False), grid.width)
        x, y = grid.transform @ (cols + 0.5, rows + 0.5)
        found[c] = list(zip(*to_lonlat.transform(x, y)))
    return found


def manual(source):
    pool = ManualExecutor()
    state = ExplorerState(source, year=YEAR)
    m = make_map(source)
    return pool, state, m, JobRunner(pool, loop=UILoop.immediate())


def label_three_classes(panel, m, points) -> None:
    """Name the classes as the truth does, then click each class's points."""
    names = sample_truth().class_names
    panel.class_name.value = names[TRUTH_CLASSES[0]]
    panel.rename_button.click()
    panel.active.value = 1
    panel.class_name.value = names[TRUTH_CLASSES[1]]
    panel.rename_button.click()
    panel.class_name.value = names[TRUTH_CLASSES[2]]
    panel.add_button.click()
    for index, c in enumerate(TRUTH_CLASSES):
        panel.active.value = index
        for lon, lat in points[c]:
            click(m, lon, lat)


def test_three_classes_by_clicks_map_the_truth_and_nodata_gets_no_class(sample, tmp_path):
    source, truth = sample
    pool, state, m, runner = manual(source)
    state.aoi = AOI.from_bounds(*source.footprint.lonlat_bounds())
    panel = ClassifyPanel(state, map=m, runner=runner, export_dir=tmp_path)
    label_three_classes(panel, m, truth_points(sample, 10))
    assert panel.product is None  # nothing was computed on the kernel's loop
    pool.run_all()
    product = panel.product
    assert len(state.class_labels) == 30 and len(product.targets) == 30
    assert [x.name for x in m.layers if x.name in ("Classes", "Labels")] == ["Classes", "Labels"]
    assert product.grid == source.grid()
    want = truth.labels(YEAR)
    field = source.read(None, YEAR)
    assert (product.labels[~field.mask] == -1).all() and (product.labels[field.mask] >= 0).all()
    assert np.isnan(product.confidence[~field.mask]).all()
    scored = field.mask & np.isin(want, TRUTH_CLASSES)
    accuracy = np.mean(np.asarray(TRUTH_CLASSES)[product.labels[scored]] == want[scored])
    assert accuracy > 0.95, accuracy
    # areas per class are the class map's pixels at 100 m² each, and the legend shows them
    for i in range(3):
        assert product.areas.hectares[i] == pytest.approx(np.count_nonzero(product.labels == i) * 100 / 1e4)
        assert f"{product.areas.hectares[i]:,.2f}" in panel.legend.value
    assert "Spatial blocks" in panel.accuracy.summary.value and "Random folds" in panel.accuracy.summary.value
    written = panel.export()
    import rasterio

    with rasterio.open(written) as ds:
        data = ds.read(1)
        assert ds.nodata == LABEL_NODATA and ds.colormap(1)[0][:3] == tuple(
            int(panel.colors[0][k : k + 2], 16) for k in (1, 3, 5)
        )
    assert (data[~field.mask] == LABEL_NODATA).all() and (data[field.mask] == product.labels[field.mask]).all()


def test_cross_validation_shown_equals_scikit_learn_on_the_same_folds(sample):
    source, _ = sample
    pool, state, m, runner = manual(source)
    panel = ClassifyPanel(state, map=m, runner=runner, method="logistic")
    points = truth_points(sample, 12, seed=1)
    label_three_classes(panel, m, points)
    pool.run_all()
    report = panel.accuracy.report
    lonlat = [p for c in TRUTH_CLASSES for p in points[c]]
    y = np.repeat(np.arange(3), 12)
    X = source.sample(lonlat, YEAR)
    xy = np.column_stack(
        Transformer.from_crs("EPSG:4326", source.footprint.crs, always_xy=True).transform(*np.transpose(lonlat))
    )
    model = EmbeddingClassifier("logistic")
    for accuracy, folds in (
        (report.random, random_folds(y, 5, 0)),
        (report.spatial, spatial_folds(xy, y, 1000.0, 5, 0)),
    ):
        np.testing.assert_allclose(accuracy.fold_scores, cross_val_score(model, X, y, cv=folds))
        assert f"{100 * accuracy.mean:.1f}%" in panel.accuracy.summary.value
    random = random_folds(y, 5, 0)
    np.testing.assert_array_equal(
        report.random.confusion, confusion_matrix(y, cross_val_predict(model, X, y, cv=random))
    )
    assert report.spatial.scheme == "1000 m blocks" and "1000 m blocks" in panel.accuracy.summary.value
    assert "aef-confusion" in panel.accuracy.confusion.value and "<svg" in panel.accuracy.bars.value
    assert "<polyline" in panel.accuracy.curve.value
    # a new block size re-runs only the accuracy, with the folds of that size
    computations = panel.computed.computations
    panel.block_size.value = 500.0
    pool.run_all()
    assert panel.computed.computations == computations
    assert panel.accuracy.report.spatial.scheme == "500 m blocks"
    np.testing.assert_allclose(
        panel.accuracy.report.spatial.fold_scores, cross_val_score(model, X, y, cv=spatial_folds(xy, y, 500.0, 5, 0))
    )


def test_a_result_for_an_older_year_is_dropped(sample):
    source, _ = sample
    pool, state, m, runner = manual(source)
    panel = ClassifyPanel(state, map=m, runner=runner, method="logistic")
    points = truth_points(sample, 4)
    for index, c in enumerate(TRUTH_CLASSES[:2]):
        panel.active.value = index
        for lon, lat in points[c]:
            click(m, lon, lat)
    running = len(pool.pending)
    state.year = 2023  # while 2024 is being classified
    pool.run(running - 1)  # the 2024 map finishes late...
    assert panel.product is None and "Classes" not in [x.name for x in m.layers]  # ...and is dropped
    pool.run_all()
    assert panel.product.year == 2023 and "Classes" in [x.name for x in m.layers]


def test_a_click_off_the_data_is_not_a_label(sample):
    source, _ = sample
    panel = ClassifyPanel(
        ExplorerState(source, year=YEAR), map=make_map(source), runner=JobRunner.inline(), method="logistic"
    )
    west, south, _, _ = source.footprint.lonlat_bounds()
    click(panel.map, west - 0.05, south - 0.05)
    assert panel.value == [] and "outside the data" in panel.notice.value


def test_a_drawn_polygon_labels_a_bounded_sample_of_its_valid_pixels(sample):
    source, _ = sample
    panel = ClassifyPanel(
        ExplorerState(source, year=YEAR), map=make_map(source), runner=JobRunner.inline(), polygon_pixels=25
    )
    west, south, east, north = source.footprint.lonlat_bounds()
    box = (west, south, west + (east - west) * 0.2, south + (north - south) * 0.2)  # holds the nodata corner
    draw(DrawTool.of(panel.map).control, rectangle(*box))
    labels = panel.value
    assert len(labels) == 25 and {p.target for p in labels} == {0}
    assert all(box[0] <= p.lon <= box[2] and box[1] <= p.lat <= box[3] for p in labels)
    assert np.isfinite(source.sample([(p.lon, p.lat) for p in labels], YEAR)).all()
    assert len({(p.lon, p.lat) for p in labels}) == 25


def test_geojson_round_trip_through_the_panel_keeps_classes_colours_years_and_vectors(sample, tmp_path):
    source, _ = sample
    runner = JobRunner.inline()
    panel = ClassifyPanel(ExplorerState(source, year=YEAR), runner=runner, method="logistic")
    points = truth_points(sample, 3)
    panel.class_color.value = "#123456"
    panel.class_name.value = "third"
    panel.add_button.click()
    for index, c in enumerate(TRUTH_CLASSES):
        panel.add_labels(points[c], index)
    path = tmp_path / "labels.geojson"
    panel.save_labels(path)
    saved = json.loads(path.read_text())
    first = saved["features"][0]["properties"]
    vector = source.sample([points[0][0]], YEAR)[0]
    np.testing.assert_allclose([first[f"A{i:02d}"] for i in range(64)], vector, rtol=1e-6)
    assert first["class"] == "Class 1" and first["year"] == YEAR
    other = ClassifyPanel(ExplorerState(source, year=YEAR), runner=runner, method="logistic")
    other.upload.value = (_upload("labels.geojson", path.read_bytes()),)
    assert [(p.lon, p.lat, p.year) for p in other.value] == [(p.lon, p.lat, p.year) for p in panel.value]
    assert [other.state.label_classes[p.target] for p in other.value] == [
        panel.state.label_classes[p.target] for p in panel.value
    ]
    assert ("third", "#123456") in other.state.label_classes


def _upload(name: str, content: bytes) -> dict:
    when = datetime.datetime.now(datetime.timezone.utc)
    return {"name": name, "type": "", "size": len(content), "content": memoryview(content), "last_modified": when}


def test_uploads_are_parsed_as_content_and_bad_or_distant_files_are_explained(sample, tmp_path):
    source, _ = sample
    panel = ClassifyPanel(ExplorerState(source, year=YEAR), runner=JobRunner.inline(), method="logistic")
    ((lon, lat),) = truth_points(sample, 1)[0]
    csv = f"lon,lat,class\n{lon},{lat},water\n{lon + 5},{lat},water\n".encode()
    # the name is a path on this machine: it is never opened, only the content counts
    secret = tmp_path / "secret.csv"
    secret.write_text("lon,lat,class\n0,0,nothing\n")
    panel.upload.value = (_upload(str(secret), csv),)
    assert [(p.lon, p.lat) for p in panel.value] == [(lon, lat)]
    assert panel.state.label_classes[panel.value[0].target][0] == "water"
    assert "1 lie outside the data" in panel.status.value and "secret.csv" in panel.status.value
    panel.upload.value = (_upload("far.csv", f"lon,lat,class\n{lon + 5},{lat},x\n".encode()),)
    assert "outside the data" in panel.status.value and len(panel.value) == 1
    panel.upload.value = (_upload("bad.geojson", b"\xff\xfe not text"),)
    assert "not a text file" in panel.status.value and len(panel.value) == 1


def test_classes_are_renamed_recoloured_and_deleted_with_their_labels(sample):
    source, _ = sample
    panel = ClassifyPanel(ExplorerState(source, year=YEAR), runner=JobRunner.inline(), method="logistic")
    points = truth_points(sample, 2)
    panel.class_name.value = "third"
    panel.add_button.click()
    for index, c in enumerate(TRUTH_CLASSES):
        panel.add_labels(points[c], index)
    panel.active.value = 0
    panel.class_name.value = "third"
    panel.rename_button.click()
    assert "already a class called" in panel.status.value
    panel.class_color.value = "#00ff00"
    panel.recolor_button.click()
    assert panel.state.label_classes[0] == ("Class 1", "#00ff00")
    panel.delete_button.click()
    assert [name for name, _ in panel.state.label_classes] == ["Class 2", "third"]
    assert [p.target for p in panel.value] == [0, 0, 1, 1]
    assert [(p.lon, p.lat) for p in panel.value] == points[1] + points[2]
    panel.remove_labels([0])
    assert len(panel.value) == 3 and len(panel.label_list.options) == 3


def test_suggestions_are_uncertain_places_and_a_click_on_one_labels_it(sample):
    source, _ = sample
    panel = ClassifyPanel(
        ExplorerState(source, year=YEAR), map=make_map(source), runner=JobRunner.inline(), method="logistic"
    )
    points = truth_points(sample, 5)
    for index, c in enumerate(TRUTH_CLASSES[:2]):
        panel.add_labels(points[c], index)
    panel.suggest()
    product = panel.product
    assert len(panel.suggestions) == 8
    margins = [product.margin[product.grid.pixel_of(lon, lat)] for lon, lat in panel.suggestions]
    assert max(margins) <= np.nanpercentile(product.margin, 5)  # among the least sure pixels of the map
    rings = panel.suggestion_marks.layer.layers
    # what the frontend is sent: Leaflet's bubblingMouseEvents false, so the ring's click never reaches the map too
    # (tests/ui/test_explorer_app.py clicks a ring in a browser: one label)
    assert all(r.get_state()["bubbling_mouse_events"] is False and "bubbling_mouse_events" in r.options for r in rings)
    lat, lon = rings[0].location
    send_custom(rings[0], {"type": "click", "coordinates": [lat, lon]})
    assert (panel.value[-1].lon, panel.value[-1].lat) == (lon, lat) and panel.value[-1].target == 0
    # a new label makes a new map, and new suggestions for it
    assert panel.product is not product and len(panel.suggestions) == 8


def test_confidence_is_a_second_layer_of_the_top_probability(sample):
    source, _ = sample
    panel = ClassifyPanel(
        ExplorerState(source, year=YEAR), map=make_map(source), runner=JobRunner.inline(), method="logistic"
    )
    points = truth_points(sample, 4)
    for index, c in enumerate(TRUTH_CLASSES[:2]):
        panel.add_labels(points[c], index)
    assert "Confidence" not in [x.name for x in panel.map.layers]
    panel.show_confidence.value = True
    layer = next(x for x in panel.map.layers if x.name == "Confidence")
    assert rgba(layer.url).shape[2] == 4
    product = panel.product
    assert np.nanmin(product.confidence) >= 0.5 - 1e-6 and np.nanmax(product.confidence) <= 1 + 1e-6


def test_explorer_clicks_label_only_while_the_classify_tab_is_open(sample):
    source, _ = sample
    explorer = Explorer(source, runner=JobRunner.inline())
    lon, lat = truth_points(sample, 1)[0][0]
    click(explorer.map, lon, lat)
    assert explorer.classify.value == [] and DrawTool.of(explorer.map).user == "aoi"
    explorer.tabs.selected_index = TAB_TITLES.index("Classify")
    click(explorer.map, lon, lat)
    assert len(explorer.classify.value) == 1 and explorer.state.probe_points == []
    assert DrawTool.of(explorer.map).user == "labels"


def test_one_label_computes_the_map_and_accuracy_once_and_a_colour_only_redraws(sample):
    source, _ = sample
    pool, state, m, runner = manual(source)
    panel = ClassifyPanel(state, map=m, runner=runner, method="logistic")
    points = truth_points(sample, 3)
    for index, c in enumerate(TRUTH_CLASSES[:2]):
        panel.add_labels(points[c], index)
    pool.run_all()
    runs = lambda: (panel.computed.computations, panel.accuracy.node.computations)  # noqa: E731
    before = runs()
    click(m, *points[0][0])
    pool.run_all()
    assert np.subtract(runs(), before).tolist() == [1, 1]
    layer = next(x for x in m.layers if x.name == "Classes")
    url, before = layer.url, runs()
    panel.class_color.value = "#00ff00"
    panel.recolor_button.click()
    time.sleep(3 * VIEW_DEBOUNCE_S)  # a redraw of a product already drawn waits for the debounce, on a timer
    pool.run_all()
    assert runs() == before and layer.url != url
    assert (rgba(layer.url)[..., :3] == (0, 255, 0)).all(axis=-1).any()  # class 0 in its new colour


def test_an_aoi_maps_the_same_labels_without_fitting_or_cross_validating_them_again(sample):
    """Drawing an AOI (or moving the view) changes where the labels are mapped, not the model: the local engine
    keeps the fitted classifier (auto's model choice is a cross-validation) and the panel the accuracy report.
    A new label is new training data: both are computed again."""
    source, _ = sample
    pool, state, m, runner = manual(source)
    panel = ClassifyPanel(state, map=m, runner=runner)  # auto: the fit cross-validates the candidates
    points = truth_points(sample, 3)
    for index, c in enumerate(TRUTH_CLASSES[:2]):
        panel.add_labels(points[c], index)
    pool.run_all()
    first, report = panel.product, panel.accuracy.report
    assert first is not None and report is not None
    west, south, east, north = source.footprint.lonlat_bounds()
    state.aoi = AOI.from_bounds(west, south, (west + east) / 2, (south + north) / 2)
    pool.run_all()
    second = panel.product
    assert second is not first and second.grid != first.grid  # the class map of the AOI, at 10 m
    assert second.model is first.model and panel.accuracy.report is report
    assert "Random folds" in panel.accuracy.summary.value
    panel.active.value = 0
    click(m, *points[TRUTH_CLASSES[2]][0])  # a third label, in class 0
    pool.run_all()
    assert panel.product.model is not first.model and len(panel.product.targets) == len(first.targets) + 1
    assert panel.accuracy.report is not report
