"""Classification, regression and negative examples on Earth Engine, as the local engine computes them.

Training follows Google's supervised-classification tutorial: the labelled points are sampled at 10 m from the
year's mosaic (``sampleRegions``, in the UTM zone of the points) and an ``ee.Classifier`` is trained on the 64
bands. Bands are scaled to unit length first, so ``smileKNN``'s Euclidean neighbours are the cosine neighbours the
local k-NN uses. The random forest is ``smileRandomForest``; regression is the same forest in ``REGRESSION`` mode.
Earth Engine has no logistic regression, so ``auto`` chooses among k-NN and the forest, by the same local
cross-validation on the points' vectors as the local engine. Areas per class are one grouped ``reduceRegion`` of
``pixelArea``, as for clusters.

Everything here builds server-side objects; the only requests are the areas (one) and, for ``auto`` without
vectors, the points' vectors (one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ee
import numpy as np

from ..analysis.area import ClassAreas
from ..analysis.classify import N_TREES, choose_scores
from ..analysis.contrast import contrast_score, contrast_weights
from ..core.aoi import AOI
from ..core.bands import BAND_NAMES
from ..core.errors import EarthEngineError, NoDataAtPoint, NoDataError
from ..rendering.view import MapView
from ..sources.earthengine import NATIVE_RESOLUTION, crs_code, utm_crs
from .earthengine_products import EESimilarity
from .ee_context import EEContext, Region, embedding_dot, unit_image

#: Methods Earth Engine can run; ``auto`` picks one of them.
EE_METHODS = ("forest", "knn3", "knn1")
CLASS_PROPERTY = "class"
VALUE_PROPERTY = "value"


def ee_classifier(method: str, seed: int = 0) -> ee.Classifier:
    """The untrained ``ee.Classifier`` of a method (``knn1``, ``knn3`` or ``forest``)."""
    if method in ("knn1", "knn3"):
        return ee.Classifier.smileKNN(k=int(method[-1]), metric="EUCLIDEAN")
    if method == "forest":
        return ee.Classifier.smileRandomForest(numberOfTrees=N_TREES, seed=int(seed))
    if method == "logistic":
        raise EarthEngineError("Earth Engine has no logistic regression; choose k-NN, the forest or auto")
    raise ValueError(f"unknown method {method!r}; choose one of auto, {', '.join(EE_METHODS)}")


def choose_ee_method(vectors: np.ndarray, classes: Sequence[int], seed: int = 0) -> str:
    """The method ``auto`` runs on Earth Engine: the best cross-validated of ``EE_METHODS`` (ties in that order)."""
    scores = choose_scores(np.asarray(vectors, dtype=np.float32), np.asarray(classes), seed)
    return max(EE_METHODS, key=lambda m: (scores[m], -EE_METHODS.index(m)))


def labelled_points(points: Sequence[tuple[float, float]], targets: Sequence, prop: str) -> ee.FeatureCollection:
    """A FeatureCollection of lon/lat points with their class index (or value) as property ``prop``."""
    if len(points) != len(targets):
        raise ValueError(f"{len(points)} points but {len(targets)} targets")
    cast = int if prop == CLASS_PROPERTY else float
    features = [
        ee.Feature(ee.Geometry.Point([float(lon), float(lat)]), {prop: cast(t)})
        for (lon, lat), t in zip(points, targets)
    ]
    return ee.FeatureCollection(features)


def training_sample(
    image: ee.Image, points: Sequence[tuple[float, float]], targets: Sequence, prop: str
) -> ee.FeatureCollection:
    """The points' unit-scaled 64 bands at 10 m in the UTM zone of their centre, with their target property."""
    lonlat = np.asarray(points, dtype=float).reshape(-1, 2)
    crs = crs_code(utm_crs(*lonlat.mean(axis=0)))
    return unit_image(image).sampleRegions(
        collection=labelled_points(points, targets, prop), properties=[prop], scale=NATIVE_RESOLUTION,
        projection=ee.Projection(crs), geometries=False,
    )  # fmt: skip


@dataclass(frozen=True, eq=False)
class EEClassification:
    """A class map on Earth Engine: ``labels`` (band ``class``, 0..n-1), ``confidence`` (top probability), the
    areas per class in ``region`` and the method that ran."""

    labels: ee.Image
    confidence: ee.Image
    n_classes: int
    method: str
    areas: ClassAreas | None
    region: Region | None


def ee_classify(
    engine: EEContext,
    year: int,
    points: Sequence[tuple[float, float]],
    classes: Sequence[int],
    n_classes: int,
    method: str = "auto",
    aoi: AOI | None = None,
    view: MapView | None = None,
    seed: int = 0,
    vectors: np.ndarray | None = None,
    measure_areas: bool = True,
) -> EEClassification:
    """Train on the labelled points and classify the year's mosaic; measure class areas in the AOI (or view).

    ``classes`` are class indices 0..n_classes-1. ``vectors`` (the points' embeddings, as the widget holds them)
    let ``auto`` choose without a request; without them they are sampled in one.
    """
    engine.source.check_year(year)
    classes = [int(c) for c in classes]
    if len(set(classes)) < 2:
        raise NoDataError("label at least two classes to classify")
    if not all(0 <= c < n_classes for c in classes):
        raise ValueError(f"class indices must be between 0 and {n_classes - 1}")
    if method == "auto":
        if vectors is None:
            vectors = engine.source.sample(points, year)
        method = choose_ee_method(vectors, classes, seed)
    image = engine.source.image(year)
    trained = ee_classifier(method, seed).train(
        features=training_sample(image, points, classes, CLASS_PROPERTY), classProperty=CLASS_PROPERTY,
        inputProperties=list(BAND_NAMES),
    )  # fmt: skip
    unit = unit_image(image)
    labels = unit.classify(trained, CLASS_PROPERTY)
    probabilities = unit.classify(trained.setOutputMode("MULTIPROBABILITY"), "probability")
    confidence = probabilities.arrayReduce(ee.Reducer.max(), [0]).arrayGet([0]).rename("confidence")
    region = engine.region(aoi, view)
    areas = engine.class_areas(labels, n_classes, region) if measure_areas and region is not None else None
    return EEClassification(labels, confidence, n_classes, method, areas, region)


def ee_regress(
    engine: EEContext, year: int, points: Sequence[tuple[float, float]], values: Sequence[float], seed: int = 0
) -> ee.Image:
    """The random forest in regression mode trained on the points' values: a one-band image ``value``."""
    engine.source.check_year(year)
    if len(points) < 2:
        raise NoDataError("regression needs at least 2 points with values")
    image = engine.source.image(year)
    trained = (
        ee.Classifier.smileRandomForest(numberOfTrees=N_TREES, seed=int(seed))
        .setOutputMode("REGRESSION")
        .train(
            features=training_sample(image, points, values, VALUE_PROPERTY), classProperty=VALUE_PROPERTY,
            inputProperties=list(BAND_NAMES),
        )
    )  # fmt: skip
    return unit_image(image).classify(trained, VALUE_PROPERTY)


def ee_contrast(
    engine: EEContext,
    year: int,
    positives: Sequence[tuple[float, float]],
    negatives: Sequence[tuple[float, float]] = (),
    aoi: AOI | None = None,
) -> EESimilarity:
    """Similarity with negative examples (``analysis.contrast``) on Earth Engine: one request samples all the
    references; the map is ``unit(x) . weights``, the readout (at the last positive) is the same number computed
    locally, and thresholds and areas come from that map."""
    engine.source.check_year(year)
    if not positives:
        raise NoDataError("click the map to choose a positive reference")
    vectors = engine.source.sample([*negatives, *positives], year)  # positives last: the readout is the last click
    pos, neg = vectors[len(negatives) :], vectors[: len(negatives)]
    if not np.isfinite(pos[-1]).all():
        raise NoDataAtPoint("there is no embedding at that point; click where the map has data")
    weights = contrast_weights(pos, neg)
    readout = float(contrast_score(pos[-1], pos, neg))
    values = embedding_dot(unit_image(engine.source.image(year)), weights).rename("similarity")
    # with negatives the score runs from -2 to 2; most of it lies between -1 and 1
    return EESimilarity(year, values, weights.astype(np.float32), readout, aoi, vmin=-1.0 if len(neg) else 0.0)
