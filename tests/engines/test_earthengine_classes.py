"""The Earth Engine class map as the classify panel uses it: labels sampled once, trained, drawn as tiles."""

from __future__ import annotations

import numpy as np

from aef_widgets.engines.earthengine_classes import EEClasses
from tests.earthengine_offline import (
    AOI_WI,
    POINTS,
    Network,
    calls,
    const,
    features,
    graph,
    map_id,
    only_call,
    unit_vectors,
)

CLASSES = [0, 1, 2, 0, 1]
URL = "https://earthengine.googleapis.com/v1/projects/p/maps/classes/tiles/{z}/{x}/{y}"


def test_classes_sample_the_labels_once_leave_out_nodata_and_draw_in_the_class_colours(engine, network: Network):
    vectors = unit_vectors(5, seed=2)
    vectors[3] = np.nan  # no embedding at the fourth label
    areas = {"groups": [{"class": 0, "sum": 3e4, "count": 3}, {"class": 1, "sum": 1e4, "count": 1}]}
    network.answer("computeValue", features(vectors), areas)
    product = engine.classes(2024, POINTS, CLASSES, 3, AOI_WI, None, method="knn1")
    assert isinstance(product, EEClasses) and network.count("computeValue") == 2
    assert product.dropped == 1 and product.targets.tolist() == [0, 1, 2, 1]
    np.testing.assert_array_equal(product.vectors, vectors[[0, 1, 2, 4]])
    assert product.areas.hectares == (3.0, 1.0, 0.0) and product.scope == "in the AOI at 10 m"
    train = only_call(graph(product.result.labels), "Classifier.train")
    points = calls(train["features"], "Feature")
    assert [const(f["metadata"])["class"] for f in points] == [0, 1, 2, 1]  # the label without data is left out
    network.answer("getMapId", map_id(URL))
    colors = ["#112233", "#445566", "#778899"]
    assert product.layer(engine.context, None, colors).url == URL
    vis = only_call(graph(network.last("getMapId")["image"]), "Image.visualize")
    assert const(vis["palette"]) == ["112233", "445566", "778899"]
    assert (const(vis["min"]), const(vis["max"])) == (0, 2)
    # remembered per palette
    assert product.layer(engine.context, None, colors).url == URL and network.count("getMapId") == 1
    assert product.suggestions() == []
