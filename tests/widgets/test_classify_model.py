"""The classify panel says which method ``auto`` chose and why, saves its model as a download and loads one back,
driven with the messages the browser sends (button clicks, uploads) on the bundled sample."""

from __future__ import annotations

import html

import numpy as np
import pytest

from aef_widgets import load_classifier, sample_source, sample_truth, save_classifier
from aef_widgets.widgets import ClassifyPanel
from tests.widgets.frontend import click, send_custom
from tests.widgets.test_classify_panel import (
    TRUTH_CLASSES,
    YEAR,
    _upload,
    label_three_classes,
    manual,
    truth_points,
)


@pytest.fixture(scope="module")
def sample():
    return sample_source(), sample_truth()


def labelled_panel(sample, tmp_path, per_class: int = 10):
    source, _ = sample
    pool, state, m, runner = manual(source)
    panel = ClassifyPanel(state, map=m, runner=runner, export_dir=tmp_path)
    label_three_classes(panel, m, truth_points(sample, per_class, seed=4))
    pool.run_all()
    return panel, pool, m


def test_the_panel_says_which_method_auto_chose_and_why(sample, tmp_path):
    panel, _, _ = labelled_panel(sample, tmp_path)
    model = panel.product.model
    assert panel.product.method == model.method_ == model.choice_.method
    summary = panel.accuracy.summary.value
    assert f"Chosen by auto: {html.escape(model.choice_.reason)}." in summary
    assert f"on these {len(panel.product.targets)} labels" in summary or "beats the default" in summary


def test_save_model_writes_the_map_s_classifier_and_load_model_restores_its_classes_and_labels(sample, tmp_path):
    panel, _, _ = labelled_panel(sample, tmp_path)
    product = panel.product
    send_custom(panel.model_files.save_button, {"event": "click"})
    written = tmp_path / f"aef_classifier_{YEAR}.npz"
    assert written.exists() and f'download="{written.name}"' in panel.model_files.download.value
    saved = load_classifier(written, year=YEAR)
    assert saved.class_names == tuple(name for name, _ in panel.state.label_classes)
    X = product.vectors
    np.testing.assert_array_equal(saved.model.predict_proba(X), product.model.predict_proba(X))
    # a fresh panel loads it from an upload: same classes, same labels, and the map made from them is the same
    source, _ = sample
    pool, state, m, runner = manual(source)
    other = ClassifyPanel(state, map=m, runner=runner, export_dir=tmp_path / "other")
    other.model_files.upload.value = (_upload(written.name, written.read_bytes()),)
    assert other.state.label_classes == panel.state.label_classes
    assert [(p.lon, p.lat, p.target) for p in other.value] == [(p.lon, p.lat, p.target) for p in panel.value]
    assert "its 30 labels are restored" in other.model_files.download.value
    pool.run_all()
    np.testing.assert_array_equal(other.product.labels, product.labels)


def test_a_model_of_another_year_or_not_a_model_is_refused_in_the_status_line(sample, tmp_path):
    panel, _, _ = labelled_panel(sample, tmp_path, per_class=5)
    product = panel.product
    other_year = save_classifier(product.model, tmp_path / "old.npz", year=YEAR - 3,
                                 labels=(product.lonlat, product.targets))  # fmt: skip
    classes, labels = list(panel.state.label_classes), list(panel.value)
    panel.model_files.upload.value = (_upload("old.npz", other_year.read_bytes()),)
    assert f"trained on {YEAR - 3} embeddings, not {YEAR}" in panel.status.value
    panel.model_files.upload.value = (_upload("labels.npz", b"lon,lat,class\n0,0,x\n"),)
    assert "labels.npz is not a saved aef-widgets classifier" in panel.status.value
    assert panel.state.label_classes == classes and panel.value == labels  # nothing changed


def test_save_model_without_a_map_says_what_to_do(sample, tmp_path):
    source, _ = sample
    pool, state, m, runner = manual(source)
    panel = ClassifyPanel(state, map=m, runner=runner, export_dir=tmp_path)
    ((lon, lat),) = truth_points(sample, 1)[TRUTH_CLASSES[0]]
    click(m, lon, lat)
    pool.run_all()
    send_custom(panel.model_files.save_button, {"event": "click"})
    assert "Label two classes" in panel.status.value and not list(tmp_path.iterdir())
