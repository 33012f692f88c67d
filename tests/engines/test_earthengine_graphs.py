"""The Earth Engine computations, built offline from the real algorithm signatures and read back as graphs.

Each test builds a product the way the widgets do, lets the stubbed network capture the request, and walks the
serialized expression to check it computes what is intended.
"""

from __future__ import annotations

import numpy as np
import pytest

from aef_widgets.analysis.composite import BandStretch, PCAStretch
from aef_widgets.core.bands import BAND_NAMES
from aef_widgets.engines.earthengine import MAX_PIXELS, EarthEngineEngine
from aef_widgets.rendering.view import MapView
from aef_widgets.sources.earthengine import COLLECTION_ID
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


def year_filters(g: dict) -> list[tuple[str, str]]:
    return [(const(a["start"]), const(a["end"])) for a in calls(g, "DateRange")]


def test_a_year_is_the_collection_filtered_to_that_calendar_year_and_mosaicked(engine: EarthEngineEngine) -> None:
    g = graph(engine.source.image(2021))
    assert g["functionInvocationValue"]["functionName"] == "ImageCollection.mosaic"
    assert const(only_call(g, "ImageCollection.load")["id"]) == COLLECTION_ID
    assert year_filters(g) == [("2021-01-01", "2022-01-01")]
    assert const(only_call(g, "Filter.dateRangeContains")["rightField"]) == "system:time_start"


def test_sampling_five_points_is_one_reduce_regions_at_10_m(engine: EarthEngineEngine, network: Network) -> None:
    network.answer("computeValue", features(unit_vectors(5)))
    engine.source.sample(POINTS, 2024)
    assert network.count() == 1
    g = graph(network.last("computeValue"))
    reduce = only_call(g, "Image.reduceRegions")
    assert const(reduce["scale"]) == 10
    assert const(only_call(reduce["crs"], "Projection")["crs"]) == "EPSG:32616"
    assert calls(reduce["reducer"], "Reducer.first") == [{}]
    assert const(only_call(reduce["image"], "Image.select")["bandSelectors"]) == list(BAND_NAMES)
    points = [const(a["coordinates"]) for a in calls(reduce["collection"], "GeometryConstructors.Point")]
    assert points == [list(p) for p in POINTS]


def unit_bands(node: dict) -> dict:
    """Check that ``node`` scales the 64 bands to unit length (bands / sqrt(sum(bands²))); return its input."""
    divide = node["functionInvocationValue"]
    if divide["functionName"] == "Image.select":  # selecting the bands again changes nothing
        assert const(divide["arguments"]["bandSelectors"]) == list(BAND_NAMES)
        divide = divide["arguments"]["input"]["functionInvocationValue"]
    assert divide["functionName"] == "Image.divide"
    bands = divide["arguments"]["image1"]
    assert const(only_call(bands, "Image.select")["bandSelectors"]) == list(BAND_NAMES)
    norm = only_call(divide["arguments"]["image2"], "Image.sqrt")
    squares = only_call(norm["value"], "Image.reduce")
    assert calls(squares["reducer"], "Reducer.sum") == [{}]
    exponent = only_call(squares["image"], "Image.pow")["image2"]["functionInvocationValue"]["arguments"]["value"]
    assert const(exponent) == 2
    return bands


def test_similarity_is_the_dot_product_of_all_64_unit_bands_with_the_mean_reference(
    engine: EarthEngineEngine, network: Network
) -> None:
    vectors = unit_vectors(3, seed=1) * np.float32([[0.99], [1.0], [1.012]])  # lengths as int8 rounding leaves them
    network.answer("computeValue", features(vectors))
    product = engine.similarity(2024, POINTS[:3], AOI_WI)
    dot = calls(graph(product.image), "Image.reduce")[0]  # outermost: the dot product itself
    assert calls(dot["reducer"], "Reducer.sum")[0] == {}
    multiply = dot["image"]["functionInvocationValue"]["arguments"]
    weights = np.array(const(only_call(multiply["image1"], "Image.constant")["value"]))
    assert weights.shape == (64,)
    # the mean of the per-reference similarities equals the dot product with the mean of the unit references
    unit = vectors.astype(np.float64) / np.linalg.norm(vectors.astype(np.float64), axis=1, keepdims=True)
    np.testing.assert_allclose(weights, unit.mean(axis=0), rtol=1e-6, atol=1e-7)
    bands = unit_bands(multiply["image2"])
    assert year_filters(bands) == [("2024-01-01", "2025-01-01")]
    assert product.readout == pytest.approx(float(unit[-1] @ unit.mean(axis=0)), abs=1e-6)


def test_matches_area_sums_pixel_area_in_the_aoi_at_10_m(engine: EarthEngineEngine, network: Network) -> None:
    network.answer("computeValue", features(unit_vectors(1)), {"valid": 2e5, "above": 5e4})
    engine.similarity(2024, POINTS[:1], AOI_WI).above_area(engine.context, 0.9)
    g = graph(network.last("computeValue"))
    reduce = only_call(g, "Image.reduceRegion")
    assert const(reduce["scale"]) == 10
    assert const(reduce["maxPixels"]) == MAX_PIXELS
    assert const(reduce["bestEffort"]) is False
    assert const(only_call(reduce["crs"], "Projection")["crs"]) == "EPSG:32616"
    assert const(only_call(reduce["geometry"], "GeometryConstructors.Polygon")["coordinates"]) == [
        [list(p) for p in AOI_WI.polygons[0][0]]
    ]
    assert calls(reduce["reducer"], "Reducer.sum") == [{}]
    assert len(calls(reduce["reducer"], "Reducer.unweighted")) == 1
    assert len(calls(reduce["image"], "Image.pixelArea")) == 2  # the matches and the valid area
    threshold = only_call(only_call(reduce["image"], "Image.gte")["image2"], "Image.constant")
    assert const(threshold["value"]) == 0.9


def test_change_is_one_minus_the_dot_product_of_two_years(engine: EarthEngineEngine) -> None:
    g = graph(engine.change(2018, 2024, AOI_WI).image)
    subtract = only_call(g, "Image.subtract")
    assert const(only_call(subtract["image1"], "Image.constant")["value"]) == 1
    dot = calls(subtract["image2"], "Image.reduce")[0]
    assert calls(dot["reducer"], "Reducer.sum")[0] == {}
    multiply = dot["image"]["functionInvocationValue"]["arguments"]
    assert year_filters(unit_bands(multiply["image1"])) == [("2018-01-01", "2019-01-01")]
    assert year_filters(unit_bands(multiply["image2"])) == [("2024-01-01", "2025-01-01")]


def test_clusters_sample_train_weka_kmeans_and_sum_areas_by_class(engine: EarthEngineEngine, network: Network) -> None:
    network.answer("computeValue", {"groups": []})
    engine.clusters(2024, AOI_WI, None, n_clusters=6, n_samples=300, seed=7)
    g = graph(network.last("computeValue"))
    sample = calls(g, "Image.sample")[0]
    assert (const(sample["scale"]), const(sample["numPixels"]), const(sample["seed"])) == (10, 300, 7)
    assert const(only_call(sample["region"], "GeometryConstructors.Polygon")["geodesic"]) is False
    kmeans = calls(g, "Clusterer.wekaKMeans")[0]
    assert {k: const(v) for k, v in kmeans.items()} == {"nClusters": 6, "seed": 7, "init": 1}
    assert const(calls(g, "Clusterer.train")[0]["inputProperties"]) == list(BAND_NAMES)
    reduce = only_call(g, "Image.reduceRegion")
    group = only_call(reduce["reducer"], "Reducer.group")
    assert (const(group["groupField"]), const(group["groupName"])) == (1, "class")
    assert calls(group["reducer"], "Reducer.sum") == [{}]
    add = only_call(reduce["image"], "Image.addBands")
    assert calls(add["dstImg"], "Image.pixelArea") == [{}]  # band 0: area; band 1: the class
    assert const(add["srcImg"]["functionInvocationValue"]["arguments"]["outputName"]) == "cluster"
    assert (const(reduce["scale"]), const(reduce["maxPixels"]), const(reduce["bestEffort"])) == (10, MAX_PIXELS, False)


def test_without_an_aoi_areas_are_measured_in_the_view_at_about_screen_resolution(engine: EarthEngineEngine) -> None:
    view = MapView(-89.0, 44.0, -88.0, 44.5, width_px=1000, height_px=600)
    region = engine.region(None, view)
    # about 80 m of ground per screen pixel here: the next power-of-two multiple of 10 m
    assert region.scale == 80
    assert region.scope == "in the view at 80 m"
    assert region.crs == "EPSG:32616"


def test_band_composite_selects_the_three_bands_and_stretches_them(engine: EarthEngineEngine, network) -> None:
    network.answer("getMapId", map_id())
    engine.rgb(2024, BandStretch(("A01", "A16", "A09"), -0.3, 0.3)).layer(engine.context, MapView(-89, 44, -88, 45))
    request = network.last("getMapId")
    g = graph(request["image"])
    vis = only_call(g, "Image.visualize")
    assert (const(vis["min"]), const(vis["max"])) == (-0.3, 0.3)
    assert const(only_call(g, "Image.select")["bandSelectors"]) == ["A01", "A16", "A09"]


def test_pca_colours_are_three_dot_products_with_the_fitted_components(engine: EarthEngineEngine, network) -> None:
    network.answer("computeValue", features(unit_vectors(300, seed=3)))
    product = engine.rgb(2024, PCAStretch(), region=AOI_WI)
    sample = only_call(graph(network.last("computeValue")), "Image.sample")
    assert (const(sample["scale"]), const(sample["numPixels"])) == (10, 2000)
    g = graph(product.image)
    pca = engine._pca.get((2024, PCAStretch(), AOI_WI, 10.0), lambda: None)
    weights = [const(only_call(m["image1"], "Image.constant")["value"]) for m in calls(g, "Image.multiply")]
    np.testing.assert_allclose(np.array(weights), pca.components_, rtol=1e-6)
    assert product.vis == {"min": pytest.approx(list(pca.low_)), "max": pytest.approx(list(pca.high_))}


def test_read_window_asks_for_the_grid_in_native_utm_with_a_validity_band(engine: EarthEngineEngine, network) -> None:
    grid = engine.source.grid(AOI_WI)
    assert grid.crs.to_epsg() == 32616 and grid.resolution == 10
    assert grid.transform.c % 10 == 0 and grid.transform.f % 10 == 0  # on the UTM 10 m lattice
    network.answer("computePixels", lambda request: _zeros(grid.shape))
    engine.source.read_window(grid, 2024)
    request = network.last("computePixels")
    assert request["fileFormat"] == "NUMPY_NDARRAY"
    assert request["grid"]["crsCode"] == "EPSG:32616"
    assert request["grid"]["dimensions"] == {"width": grid.width, "height": grid.height}
    t = request["grid"]["affineTransform"]
    assert (t["scaleX"], t["scaleY"], t["translateX"], t["translateY"]) == (10, -10, grid.transform.c, grid.transform.f)
    g = graph(request["expression"])
    assert const(calls(g, "Image.select")[0]["bandSelectors"]) == list(BAND_NAMES)
    assert const(calls(g, "Image.rename")[0]["names"]) == ["valid"]


def _zeros(shape: tuple[int, int]) -> np.ndarray:
    dtype = [(b, "<f4") for b in (*BAND_NAMES, "valid")]
    return np.zeros(shape, dtype=dtype)


def test_export_task_keeps_the_native_grid_and_writes_255_as_nodata(engine: EarthEngineEngine, network) -> None:
    network.answer("computeValue", {"groups": []})
    product = engine.clusters(2024, AOI_WI, None, n_clusters=4)
    network.answer("exportImage", {"name": "projects/test-project/operations/TASKID"})
    task = product.export_task(engine.context, "drive", folder="aef")
    request_id, config = network.last("exportImage")
    assert config["fileExportOptions"]["driveDestination"] == {"folder": "aef", "filenamePrefix": task.description}
    assert config["fileExportOptions"]["geoTiffOptions"]["noData"] == {"floatValue": 255}
    g = graph(config["expression"])
    grid = product.grid(engine.context)
    reproject = only_call(g, "Image.reproject")
    assert const(reproject["crsTransform"]) == [10, 0, grid.transform.c, 0, -10, grid.transform.f]
    assert const(only_call(reproject["crs"], "Projection")["crs"]) == "EPSG:32616"
    assert const(calls(g, "Image.unmask")[0]["value"]["functionInvocationValue"]["arguments"]["value"]) == 255
