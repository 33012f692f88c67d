"""Saving and loading a classifier: the loaded model maps the real raster exactly as the saved one, and a file that
does not fit the data (bands, year, a newer package or format, not a classifier, a pickle) is refused in words."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aef_widgets import ClassifierFileError, EmbeddingClassifier, load_classifier, open_source, save_classifier
from aef_widgets.core.bands import BAND_NAMES

YEAR = 2024


@pytest.fixture(scope="module")
def real_labels():
    """The real raster as a field, and 12 labels of each of 3 classes: which of three reference pixels each
    pixel is most like (a rule every method can learn from the vectors)."""
    from tests.conftest import REAL_FLOAT32

    field = open_source(REAL_FLOAT32).read(None, YEAR)
    vectors = field.valid_vectors()
    y_all = (vectors @ vectors[[0, 4000, 9000]].T).argmax(axis=1)
    rng = np.random.default_rng(0)
    train = np.concatenate([rng.choice(np.flatnonzero(y_all == c), 12, replace=False) for c in range(3)])
    return field, vectors[train], y_all[train]


@pytest.mark.parametrize("method", ["logistic", "knn1", "knn3", "forest"])
def test_a_loaded_classifier_maps_the_field_exactly_as_the_saved_one(method, real_labels, tmp_path):
    field, X, y = real_labels
    model = EmbeddingClassifier(method, random_state=3).fit(X, y)
    names, colors = ("water", "forest", "crops"), ("#0000ff", "#00aa00", "#ffcc00")
    path = save_classifier(model, tmp_path / "model", year=YEAR, class_names=names, class_colors=colors)
    assert path.name == "model.npz"
    saved = load_classifier(path, year=YEAR, bands=BAND_NAMES)
    loaded = saved.model
    assert (saved.year, saved.class_names, saved.class_colors, saved.bands) == (YEAR, names, colors, BAND_NAMES)
    assert saved.labels_lonlat is None and saved.labels_targets is None
    assert loaded.method_ == method and list(loaded.classes_) == list(model.classes_)
    before, after = model.classify(field), loaded.classify(field)
    np.testing.assert_array_equal(after.labels, before.labels)
    np.testing.assert_array_equal(after.confidence, before.confidence)
    vectors = field.valid_vectors()[:500]
    np.testing.assert_array_equal(loaded.predict_proba(vectors), model.predict_proba(vectors))


def test_string_classes_and_the_auto_choice_survive(real_labels, tmp_path):
    _, X, y = real_labels
    named = np.array(["water", "forest", "crops"], dtype=object)[y]
    model = EmbeddingClassifier("auto").fit(X, named)
    lonlat = np.column_stack([np.linspace(-88.78, -88.76, len(y)), np.full(len(y), 44.29)])
    path = save_classifier(model, tmp_path / "m.npz", year=YEAR, labels=(lonlat, named))
    saved = load_classifier(path, year=YEAR)
    np.testing.assert_array_equal(saved.labels_lonlat, lonlat)
    assert list(saved.labels_targets) == list(named)
    assert saved.model.method_ == model.method_ and list(saved.model.classes_) == list(model.classes_)
    assert saved.class_names == tuple(str(c) for c in model.classes_)
    np.testing.assert_array_equal(saved.model.predict(X), model.predict(X))


def rewrite_meta(path, **changes) -> None:
    """The same file with some metadata changed, as another version or another workflow would write it."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(str(arrays.pop("meta"))) | changes
    np.savez_compressed(path, meta=np.array(json.dumps(meta)), **arrays)


@pytest.fixture()
def saved_path(real_labels, tmp_path):
    _, X, y = real_labels
    return save_classifier(EmbeddingClassifier("logistic").fit(X, y), tmp_path / "m.npz", year=YEAR)


def test_another_year_is_refused_unless_asked(saved_path):
    with pytest.raises(ClassifierFileError, match=r"trained on 2024 embeddings, not 2020.*allow_other_year=True"):
        load_classifier(saved_path, year=2020)
    assert load_classifier(saved_path, year=2020, allow_other_year=True).year == YEAR


def test_other_bands_are_refused_naming_them(saved_path):
    other = ("B00", *BAND_NAMES[1:])
    with pytest.raises(ClassifierFileError, match=r"reads 64 bands, the data has 64; they differ \(A00 / B00"):
        load_classifier(saved_path, bands=other)
    with pytest.raises(ClassifierFileError, match="reads 64 bands, the data has 3"):
        load_classifier(saved_path, bands=BAND_NAMES[:3])


def test_a_newer_package_or_format_is_refused(saved_path):
    rewrite_meta(saved_path, aef_widgets="9.0.0")
    with pytest.raises(ClassifierFileError, match=r"saved by aef-widgets 9.0.0, newer than this .*upgrade"):
        load_classifier(saved_path)
    rewrite_meta(saved_path, aef_widgets="0.0.1", format=99)
    with pytest.raises(ClassifierFileError, match=r"classifier format 99.*upgrade"):
        load_classifier(saved_path)
    rewrite_meta(saved_path, format=1)
    assert load_classifier(saved_path).version == "0.0.1"  # an older writer of the same format is fine


def test_files_that_are_not_saved_classifiers_are_refused(tmp_path, real_labels):
    text = tmp_path / "labels.geojson"
    text.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(ClassifierFileError, match=r"labels.geojson is not a saved aef-widgets classifier"):
        load_classifier(text)
    other = tmp_path / "other.npz"
    np.savez(other, meta=np.array(json.dumps({"kind": "something else"})))
    with pytest.raises(ClassifierFileError, match=r"other.npz is not a saved aef-widgets classifier"):
        load_classifier(other)
    with pytest.raises(ClassifierFileError, match="fit the classifier"):
        save_classifier(EmbeddingClassifier("logistic"), tmp_path / "unfitted.npz", year=YEAR)
    _, X, y = real_labels
    with pytest.raises(ClassifierFileError, match="has 3 classes; give a name and colour for each"):
        save_classifier(EmbeddingClassifier("knn1").fit(X, y), tmp_path / "x.npz", year=YEAR, class_names=["a"])
    with pytest.raises(ClassifierFileError, match="one class of the model for each lon/lat"):
        save_classifier(EmbeddingClassifier("knn1").fit(X, y), tmp_path / "x.npz", year=YEAR,
                        labels=(np.zeros((len(y), 2)), y + 7))  # fmt: skip


class Payload:
    """Unpickling this runs code: it writes a marker file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_file_with_a_pickle_inside_is_refused_without_running_it(saved_path, tmp_path):
    marker = tmp_path / "ran"
    with np.load(saved_path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["coef"] = np.array([Payload(str(marker))], dtype=object)  # saved as a pickle inside the .npz
    np.savez(saved_path, **arrays)
    with pytest.raises(ClassifierFileError, match="not a saved aef-widgets classifier"):
        load_classifier(saved_path)
    assert not marker.exists()
