"""Save a fitted classifier to a file and load it again, refusing in words a model that does not fit the data.

The file is a NumPy ``.npz`` archive of plain arrays (``analysis.classify_state``: coefficients, labelled vectors or
tree tables) plus one JSON string of metadata: the format version, the aef-widgets and scikit-learn versions that
wrote it, the band names the model reads, the year of the embeddings it was trained on, and the classes' names and
colours; optionally the labels it was trained on (lon/lat and class), so an app can restore them. It is read with
``allow_pickle=False``, so loading a file from someone else cannot run code (a pickle or
joblib file can). The QGIS AlphaEarth toolbox saves and reloads its classifiers the same way, with the bands and
year alongside.

``load_classifier`` refuses, with a ``ClassifierFileError`` that says what differs: a file that is not a saved
classifier, a format or package version newer than this one, bands other than the ones the data has, and a year
other than the one asked for (its labels describe the land in the year it was trained on; pass
``allow_other_year=True`` to apply it to another year anyway).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np
import sklearn

from ..analysis.classify import EmbeddingClassifier
from ..analysis.classify_state import ModelStateError, model_arrays, model_from_arrays
from ..core.bands import BAND_NAMES
from ..core.errors import AEFError

#: Bumped when the file layout changes; a file of a later format is refused.
FORMAT = 1
KIND = "aef-widgets classifier"
SUFFIX = ".npz"


class ClassifierFileError(AEFError):
    """A saved classifier that cannot be used here; the message says why."""


@dataclass(frozen=True)
class SavedClassifier:
    """A loaded classifier and what it was trained on."""

    model: EmbeddingClassifier
    year: int
    bands: tuple[str, ...]
    class_names: tuple[str, ...]
    class_colors: tuple[str, ...]
    version: str
    #: The training labels' (lon, lat) and classes (values of ``model.classes_``), if they were saved.
    labels_lonlat: np.ndarray | None = None
    labels_targets: np.ndarray | None = None


def _package_version() -> str:
    from .. import __version__

    return __version__


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".")[:2] if p.isdigit())


def save_classifier(
    model: EmbeddingClassifier, path: str | PathLike, *, year: int, class_names: Sequence[str] = (),
    class_colors: Sequence[str] = (), bands: Sequence[str] = BAND_NAMES,
    labels: tuple[np.ndarray, np.ndarray] | None = None,
) -> Path:  # fmt: skip
    """Write a fitted classifier, the year of its training embeddings and its classes' names and colours;
    ``labels``, the training labels' ``((n, 2) lon/lat, (n,) classes)``, are kept too if given."""
    path = Path(path)
    if path.suffix != SUFFIX:
        path = path.with_name(path.name + SUFFIX)
    try:
        arrays = model_arrays(model)
    except ModelStateError as e:
        raise ClassifierFileError(str(e)) from None
    names = list(class_names) or [str(c) for c in model.classes_]
    if len(names) != len(model.classes_) or (class_colors and len(class_colors) != len(model.classes_)):
        raise ClassifierFileError(f"the model has {len(model.classes_)} classes; give a name and colour for each")
    meta = {
        "kind": KIND, "format": FORMAT, "aef_widgets": _package_version(), "scikit_learn": sklearn.__version__,
        "year": int(year), "bands": list(bands), "class_names": names, "class_colors": list(class_colors),
    }  # fmt: skip
    if labels is not None:
        lonlat, targets = np.asarray(labels[0], dtype=np.float64).reshape(-1, 2), np.asarray(labels[1])
        if len(lonlat) != len(targets) or not np.isin(targets, model.classes_).all():
            raise ClassifierFileError("the labels must be one class of the model for each lon/lat")
        arrays |= {"labels_lonlat": lonlat, "labels_targets": targets}
    # no object arrays: they would be pickled, and a file that needs unpickling is refused on loading
    arrays = {k: a.astype(str) if a.dtype == object else a for k, a in arrays.items()}
    np.savez_compressed(path, meta=np.array(json.dumps(meta)), **arrays)
    return path


def load_classifier(
    path: str | PathLike, *, year: int | None = None, bands: Sequence[str] | None = None, allow_other_year: bool = False
) -> SavedClassifier:
    """Read a saved classifier; ``year`` and ``bands`` are those of the data it will classify (checked)."""
    try:
        with np.load(Path(path), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        meta = json.loads(str(arrays.pop("meta")))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
        raise ClassifierFileError(f"{Path(path).name} is not a saved aef-widgets classifier ({e})") from None
    if not isinstance(meta, dict) or meta.get("kind") != KIND:
        raise ClassifierFileError(f"{Path(path).name} is not a saved aef-widgets classifier")
    _check_meta(meta, year, bands, allow_other_year)
    lonlat, targets = arrays.pop("labels_lonlat", None), arrays.pop("labels_targets", None)
    try:
        model = model_from_arrays(arrays)
    except (ModelStateError, KeyError, ValueError, TypeError) as e:
        raise ClassifierFileError(f"{Path(path).name}: cannot rebuild the classifier ({e})") from None
    names, colors = tuple(meta["class_names"]), tuple(meta["class_colors"])
    version = meta["aef_widgets"]
    return SavedClassifier(model, int(meta["year"]), tuple(meta["bands"]), names, colors, version, lonlat, targets)


def _check_meta(meta: dict, year: int | None, bands: Sequence[str] | None, allow_other_year: bool) -> None:
    if int(meta.get("format", 0)) > FORMAT:
        raise ClassifierFileError(
            f"the file is in classifier format {meta['format']}, written by aef-widgets {meta.get('aef_widgets')}; "
            f"this aef-widgets {_package_version()} reads format {FORMAT} at most: upgrade aef-widgets"
        )
    saved, here = str(meta.get("aef_widgets", "?")), _package_version()
    if _version_tuple(saved) > _version_tuple(here):
        raise ClassifierFileError(f"saved by aef-widgets {saved}, newer than this {here}: upgrade aef-widgets")
    expected = tuple(BAND_NAMES if bands is None else bands)
    if tuple(meta.get("bands", ())) != expected:
        differ = [f"{a} / {b}" for a, b in zip(meta.get("bands", ()), expected) if a != b][:3]
        raise ClassifierFileError(
            f"the model reads {len(meta.get('bands', ()))} bands, the data has {len(expected)}"
            + (f"; they differ ({', '.join(differ)}, saved / here)" if differ else "")
        )
    if year is not None and int(meta["year"]) != int(year) and not allow_other_year:
        raise ClassifierFileError(
            f"the model was trained on {meta['year']} embeddings, not {year}: its labels describe the land in "
            f"{meta['year']}; pass allow_other_year=True to apply it to {year} anyway"
        )
