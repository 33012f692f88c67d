"""Classes of fields learnt from the fields that have a label: the package's classifier with fields as samples.

The labelled fields are those whose label column holds a value and whose zonal mean has data; the classifier
(``EmbeddingClassifier``, ``auto``: its method chosen on the labels by cross-validation) is fitted on their unit
means and applied to every field with data. Its accuracy is cross-validated in spatial blocks (``spatial_folds``
on the fields' representative points in metres, the classify tab's block size), so neighbouring fields that look
alike do not flatter it; with too few labelled blocks that estimate is said to be unavailable, not made up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..analysis.classify import EmbeddingClassifier, make_estimator
from ..analysis.validation import evaluate, spatial_folds
from ..core.errors import NoDataError, UsageError

if TYPE_CHECKING:
    import geopandas as gpd


def field_classes(
    v: np.ndarray, table: gpd.GeoDataFrame, column: str, block_size: float
) -> tuple[np.ndarray, tuple, str]:
    """(class position of every field, -1 without data; the class names; a note on the fit and its accuracy)."""
    if not column or column not in table.columns or column == table.geometry.name:
        raise UsageError("choose the column of the layer that names the labelled fields' classes")
    names = table[column].to_numpy(dtype=object)
    labelled = np.array([x is not None and x == x and str(x).strip() != "" for x in names])  # x == x: not NaN
    has_data = np.isfinite(v).all(axis=1)
    train = labelled & has_data
    y = np.array([str(x) for x in names[train]])
    if len(np.unique(y)) < 2:
        raise NoDataError(f"label fields of at least two classes in column {column!r} (fields with data: "
                          f"{int(train.sum())} labelled)")  # fmt: skip
    model = EmbeddingClassifier("auto").fit(v[train], y)
    classes = tuple(str(c) for c in model.classes_)
    found = np.full(len(v), -1, dtype=np.int64)
    found[has_data] = np.searchsorted(np.asarray(classes), model.predict(v[has_data]))
    note = f"{model.method_} on {int(train.sum())} labelled fields"
    points = table.geometry.representative_point()
    crs = table.estimate_utm_crs() if not table.crs.is_projected else table.crs
    xy = np.column_stack([points.to_crs(crs).x, points.to_crs(crs).y])[train]
    try:
        accuracy = evaluate(make_estimator(model.method_), v[train], y, spatial_folds(xy, y, block_size))
        note += f"; spatial CV accuracy {accuracy.mean:.2f} ± {accuracy.std:.2f}"
    except (NoDataError, ValueError):
        note += "; too few labelled blocks for a spatial CV accuracy"
    return found, classes, note
