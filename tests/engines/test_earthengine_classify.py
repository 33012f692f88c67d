"""Classification, regression and negative examples on Earth Engine, read back from real ``ee`` graphs offline."""

from __future__ import annotations

import numpy as np
import pytest

from aef_widgets.analysis import contrast_score, contrast_weights
from aef_widgets.core.bands import BAND_NAMES
from aef_widgets.core.errors import EarthEngineError, NoDataError
from aef_widgets.engines.earthengine import MAX_PIXELS
from aef_widgets.engines.earthengine_classify import choose_ee_method, ee_classify, ee_contrast, ee_regress
from tests.earthengine_offline import AOI_WI, POINTS, Network, calls, const, features, graph, only_call, unit_vectors

CLASSES = [0, 1, 2, 0, 1]


def check_training(g: dict, prop: str, targets: list) -> None:
    """The classifier is trained on the points sampled at 10 m in UTM 16N, with their targets, on all 64 bands."""
    train = only_call(g, "Classifier.train")
    assert const(train["classProperty"]) == prop
    assert const(train["inputProperties"]) == list(BAND_NAMES)
    sample = only_call(train["features"], "Image.sampleRegions")
    assert const(sample["scale"]) == 10 and const(sample["properties"]) == [prop]
    assert const(only_call(sample["projection"], "Projection")["crs"]) == "EPSG:32616"
    # sampled from the unit-scaled bands: squares summed, square root, divided
    assert calls(sample["image"], "Image.divide") and calls(sample["image"], "Image.sqrt")
    feats = calls(sample["collection"], "Feature")
    assert [const(f["geometry"]["functionInvocationValue"]["arguments"]["coordinates"]) for f in feats] == [
        list(p) for p in POINTS
    ]
    assert [const(f["metadata"])[prop] for f in feats] == targets


@pytest.mark.parametrize(("method", "k"), [("knn1", 1), ("knn3", 3)])
def test_knn_is_smile_knn_on_unit_bands_and_areas_are_grouped_pixel_areas(engine, network: Network, method, k):
    network.answer("computeValue", {"groups": [{"class": 0, "sum": 2e4, "count": 2}, {"class": 2, "sum": 1e4,
                                                                                          "count": 1}]})  # fmt: skip
    result = ee_classify(engine, 2024, POINTS, CLASSES, 3, method, aoi=AOI_WI)
    assert network.count() == 1 and result.method == method
    assert result.areas.hectares == (2.0, 0.0, 1.0) and result.areas.pixels == (2, 0, 1)
    g = graph(result.labels)
    knn = only_call(g, "Classifier.smileKNN")
    assert (const(knn["k"]), const(knn["metric"])) == (k, "EUCLIDEAN")
    check_training(g, "class", CLASSES)
    classify = g["functionInvocationValue"]
    assert classify["functionName"] == "Image.classify" and const(classify["arguments"]["outputName"]) == "class"
    reduce = only_call(graph(network.last("computeValue")), "Image.reduceRegion")
    group = only_call(reduce["reducer"], "Reducer.group")
    assert (const(group["groupField"]), const(group["groupName"])) == (1, "class")
    assert calls(only_call(reduce["image"], "Image.addBands")["dstImg"], "Image.pixelArea")
    assert (const(reduce["scale"]), const(reduce["maxPixels"]), const(reduce["bestEffort"])) == (10, MAX_PIXELS, False)


def test_forest_confidence_is_the_top_of_the_class_probabilities(engine):
    result = ee_classify(engine, 2024, POINTS, CLASSES, 3, "forest", seed=4, measure_areas=False)
    g = graph(result.confidence)
    forest = only_call(g, "Classifier.smileRandomForest")
    assert (const(forest["numberOfTrees"]), const(forest["seed"])) == (50, 4)
    assert const(only_call(g, "Classifier.setOutputMode")["mode"]) == "MULTIPROBABILITY"
    reduce = only_call(g, "Image.arrayReduce")
    assert calls(reduce["reducer"], "Reducer.max") == [{}] and const(reduce["axes"]) == [0]
    position = only_call(only_call(g, "Image.arrayGet")["position"], "Image.constant")  # one band: 0
    assert const(position["value"]) in (0, [0])
    assert result.areas is None


def test_auto_chooses_by_local_cross_validation_on_the_same_vectors(engine):
    rng = np.random.default_rng(0)
    centres = unit_vectors(2, seed=9)
    vectors = np.repeat(centres, 6, axis=0) + 0.05 * rng.normal(size=(12, 64)).astype(np.float32)
    classes = [0] * 6 + [1] * 6
    points = [(-88.78 + 0.001 * i, 44.295) for i in range(12)]
    result = ee_classify(engine, 2024, points, classes, 2, "auto", vectors=vectors, measure_areas=False)
    assert result.method == choose_ee_method(vectors, classes) == "forest"  # all perfect: ties go to the forest
    assert only_call(graph(result.labels), "Classifier.smileRandomForest")


def test_auto_without_vectors_samples_them_in_one_request(engine, network: Network):
    network.answer("computeValue", features(np.repeat(unit_vectors(2, seed=1), [3, 2], axis=0)))
    result = ee_classify(engine, 2024, POINTS, [0, 0, 0, 1, 1], 2, "auto", measure_areas=False)
    assert network.count() == 1 and result.method in ("forest", "knn3", "knn1")


def test_unsupported_and_bad_requests_are_clear_errors(engine):
    with pytest.raises(EarthEngineError, match="no logistic regression"):
        ee_classify(engine, 2024, POINTS, CLASSES, 3, "logistic", measure_areas=False)
    with pytest.raises(NoDataError, match="at least two classes"):
        ee_classify(engine, 2024, POINTS, [1] * 5, 3, "knn1")
    with pytest.raises(ValueError, match="between 0 and 2"):
        ee_classify(engine, 2024, POINTS, [0, 1, 2, 3, 0], 3, "knn1")


def test_regression_is_the_forest_in_regression_mode_on_the_values(engine):
    values = [12.5, 30.0, 7.25, 18.0, 22.0]
    g = graph(ee_regress(engine, 2024, POINTS, values, seed=2))
    assert const(only_call(g, "Classifier.setOutputMode")["mode"]) == "REGRESSION"
    forest = only_call(g, "Classifier.smileRandomForest")
    assert (const(forest["numberOfTrees"]), const(forest["seed"])) == (50, 2)
    check_training(g, "value", values)
    assert const(g["functionInvocationValue"]["arguments"]["outputName"]) == "value"


def test_negative_examples_map_readout_and_area_agree_with_the_local_score(engine, network: Network):
    vectors = unit_vectors(5, seed=3) * np.float32([[0.99], [1.01], [1.0], [0.995], [1.005]])
    network.answer("computeValue", features(vectors))  # negatives first, then positives
    product = ee_contrast(engine, 2024, POINTS[2:], POINTS[:2], AOI_WI)
    assert network.count() == 1
    sampled = calls(graph(network.last("computeValue")), "GeometryConstructors.Point")
    assert [const(p["coordinates"]) for p in sampled] == [list(p) for p in POINTS[:2] + POINTS[2:]]
    pos, neg = vectors[2:], vectors[:2]
    dot = calls(graph(product.image), "Image.reduce")[0]
    weights = np.array(const(only_call(dot["image"]["functionInvocationValue"]["arguments"]["image1"],
                                       "Image.constant")["value"]))  # fmt: skip
    np.testing.assert_allclose(weights, contrast_weights(pos, neg), rtol=1e-6, atol=1e-7)
    # the definition, by hand: mean cosine to the positives minus mean cosine to the negatives, at the last positive
    unit = vectors.astype(np.float64) / np.linalg.norm(vectors.astype(np.float64), axis=1, keepdims=True)
    expected = np.mean(unit[2:] @ unit[-1]) - np.mean(unit[:2] @ unit[-1])
    assert product.readout == pytest.approx(expected, abs=1e-9)
    assert product.readout == pytest.approx(float(contrast_score(pos[-1], pos, neg)), abs=1e-12)
    network.answer("computeValue", {"valid": 2e5, "above": 5e4})
    area = product.above_area(engine.context, 0.1)
    assert area.percent == pytest.approx(25.0)
    threshold = only_call(only_call(graph(network.last("computeValue")), "Image.gte")["image2"], "Image.constant")
    assert const(threshold["value"]) == 0.1
