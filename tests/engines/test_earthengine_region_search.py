"""The region search on Earth Engine, built offline as real ``ee`` graphs (only ``ee.data`` is stubbed) and read back.

How the graph is read: ``FeatureCollection.sort`` and ``.limit`` are both ``Collection.limit`` in the Earth Engine
API (a key and an order, or a count); ``Image.sample`` with ``geometries`` returns pixel-centre points.
"""

from __future__ import annotations

import numpy as np
import pytest

from aef_widgets.analysis.contrast import contrast_weights
from aef_widgets.core.errors import UsageError
from aef_widgets.engines.earthengine_region_search import (
    MAX_FEATURES,
    THRESHOLD_SLACK,
    export_similar_ee,
    find_similar_ee,
)
from aef_widgets.engines.region_search import find_similar
from aef_widgets.sources.earthengine import EarthEngineSource
from tests.earthengine_offline import AOI_WI, Network, calls, const, graph, only_call, unit_vectors

POS, NEG = unit_vectors(2, seed=1), unit_vectors(1, seed=2)


def points_answer(lonlat: list[tuple[float, float]], scores: list[float]) -> dict:
    """What ``getInfo`` of a sampled FeatureCollection returns: points with their ``score``."""
    rows = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(p)}, "properties": {"score": s}}
        for p, s in zip(lonlat, scores)
    ]
    return {"type": "FeatureCollection", "features": rows}


def test_one_request_scores_every_pixel_and_returns_the_best_sorted(ee_offline, network: Network) -> None:
    found = [(-88.775, 44.295), (-88.772, 44.296), (-88.770, 44.297)]
    network.answer("computeValue", points_answer(found, [0.9, 0.8, 0.7]))
    frame = find_similar(EarthEngineSource(), AOI_WI, 2024, POS, NEG, top=3)
    assert network.count() == 1  # the search is one request (references given as vectors)
    assert frame["score"].tolist() == [0.9, 0.8, 0.7] and frame["rank"].tolist() == [1, 2, 3]
    assert set(frame["year"]) == {2024} and frame.crs.to_epsg() == 4326
    assert [(p.x, p.y) for p in frame.geometry] == found
    g = graph(network.last("computeValue"))
    count, order = calls(g, "Collection.limit")  # .limit(top) of .sort("score", descending)
    assert const(count["limit"]) == 3
    assert const(order["key"]) == "score" and const(order["ascending"]) is False
    sample = only_call(g, "Image.sample")
    assert const(sample["geometries"]) is True and const(sample["dropNulls"]) is True and const(sample["scale"]) == 10
    assert const(only_call(sample["projection"], "Projection")["crs"]) == "EPSG:32616"
    # the score is unit(x) . (mean unit positive - mean unit negative), as the local contrast_score
    # (the graph inlines the score image everywhere it is used: the threshold, the mask and the values)
    constants = [c["value"] for c in calls(g, "Image.constant") if "constantValue" in c["value"]]
    weights = [const(v) for v in constants if isinstance(const(v), list)]
    assert len(weights) >= 2
    for w in weights:
        np.testing.assert_allclose(w, contrast_weights(POS, NEG), rtol=1e-12)
    assert calls(g, "Image.sqrt") and calls(g, "Image.divide")
    # pixels at or above the percentile that leaves THRESHOLD_SLACK x top of the region's pixels
    threshold = only_call(g, "Image.reduceRegion")
    percentile = const(only_call(threshold["reducer"], "Reducer.percentile")["percentiles"])[0]
    region_px = AOI_WI.area_km2 * 1e6 / 100
    assert percentile == pytest.approx(100 * (1 - THRESHOLD_SLACK * 3 / region_px))
    assert const(threshold["scale"]) == 10 and calls(g, "Image.gte")


def test_min_distance_keeps_the_best_point_of_each_neighbourhood(ee_offline, network: Network) -> None:
    # two points 8 m apart and one 800 m away: with 100 m, the second is dropped
    found = [(-88.7750, 44.2950), (-88.7749, 44.2950), (-88.7650, 44.2950)]
    network.answer("computeValue", points_answer(found, [0.9, 0.85, 0.8]))
    frame = find_similar_ee(EarthEngineSource(), AOI_WI, 2024, POS, top=2, min_distance_m=100)
    assert frame["score"].tolist() == [0.9, 0.8] and frame["rank"].tolist() == [1, 2]
    # enough candidates asked for that two kept points can each have suppressed a whole neighbourhood
    (count, _order) = calls(graph(network.last("computeValue")), "Collection.limit")
    assert const(count["limit"]) >= 2 * int(np.pi * 10**2)


def test_fewer_matches_than_asked_are_returned_as_they_are(ee_offline, network: Network) -> None:
    network.answer("computeValue", points_answer([(-88.775, 44.295)], [0.5]))
    frame = find_similar_ee(EarthEngineSource(), AOI_WI, 2024, POS, top=10)
    assert len(frame) == 1 and frame["rank"].tolist() == [1]


def test_a_search_too_big_for_one_answer_says_so_and_big_regions_export(ee_offline, network: Network) -> None:
    with pytest.raises(UsageError, match=f"{MAX_FEATURES:,}.*export_similar_ee"):
        find_similar_ee(EarthEngineSource(), AOI_WI, 2024, POS, top=100, min_distance_m=500)
    assert network.count() == 0  # refused before any request
    network.answer("exportTable", {"name": "projects/test-project/operations/T"})
    task = export_similar_ee(EarthEngineSource(), AOI_WI, 2024, POS, NEG, top=10_000, destination="gcs", bucket="b")
    assert task.task.name.endswith("/T") and network.count("exportTable") == 1
    config = network.last("exportTable")[1]
    assert config["fileExportOptions"]["fileFormat"] == "GEO_JSON"
    with pytest.raises(UsageError, match="bucket="):
        export_similar_ee(EarthEngineSource(), AOI_WI, 2024, POS, destination="gcs")
    with pytest.raises(UsageError, match="destination must be one of"):
        export_similar_ee(EarthEngineSource(), AOI_WI, 2024, POS, destination="ftp")
