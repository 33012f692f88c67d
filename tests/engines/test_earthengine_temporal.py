"""The temporal products on Earth Engine, built offline as real ``ee`` graphs and read back."""

from __future__ import annotations

import numpy as np
import pytest

from aef_widgets.analysis.temporal import MAD_TO_STD
from aef_widgets.core.errors import NoDataError, YearError
from aef_widgets.engines.earthengine_temporal import EETemporal
from tests.earthengine_offline import AOI_WI, POINTS, Network, calls, const, graph, only_call

YEARS = (2019, 2020, 2021, 2022)


@pytest.fixture
def temporal(make_ee_engine) -> EETemporal:
    return EETemporal.of(make_ee_engine(YEARS))


def years_in(node: dict) -> list[str]:
    return sorted(const(a["start"])[:4] for a in calls(node, "DateRange"))


def dots(node: dict) -> list[dict]:
    """The dot products (sum over bands of a product) in a graph, outermost first."""
    return [r for r in calls(node, "Image.reduce") if calls(r["image"], "Image.multiply")]


def test_one_band_per_year_and_reference_and_the_latest_vector_carried_forward(temporal: EETemporal) -> None:
    g = graph(temporal.similarity_bands(2020))
    names = sorted(const(r["names"])[0] for r in calls(g, "Image.rename"))
    assert names == ["ref_2019", "ref_2020", "ref_2021", "ref_2022", "y2y_2020", "y2y_2021", "y2y_2022"]
    assert len(dots(g)) == 7
    unmask = calls(g, "Image.unmask")
    assert unmask and all(const(u["sameFootprint"]) is False for u in unmask)
    with pytest.raises(YearError, match="2018"):
        temporal.similarity_bands(2018)


def test_an_aoi_chart_is_one_reduce_region_of_means_and_counts(temporal: EETemporal, network: Network) -> None:
    answer = {f"ref_{y}_mean": v for y, v in zip(YEARS, [0.9, 1.0, 0.8, None])}
    answer |= {f"ref_{y}_count": n for y, n in zip(YEARS, [100, 120, 90, 0])}
    answer |= {"y2y_2020_mean": 0.95, "y2y_2021_mean": 0.7, "y2y_2022_mean": None}
    network.answer("computeValue", answer)
    t = temporal.aoi_trajectory(AOI_WI, 2020)
    assert network.count() == 1
    reduce = only_call(graph(network.last("computeValue")), "Image.reduceRegion")
    assert const(reduce["scale"]) == 10 and const(reduce["bestEffort"]) is False
    assert const(only_call(reduce["crs"], "Projection")["crs"]) == "EPSG:32616"
    assert calls(reduce["reducer"], "Reducer.mean") == [{}] and calls(reduce["reducer"], "Reducer.count") == [{}]
    np.testing.assert_array_equal(t.to_reference, [0.9, 1.0, 0.8, np.nan])
    np.testing.assert_array_equal(t.year_to_year, [np.nan, 0.95, 0.7, np.nan])
    assert t.pixels.tolist() == [100, 120, 90, 0] and t.years == YEARS and t.reference_year == 2020


def test_a_pixel_chart_is_one_request_at_the_point(temporal: EETemporal, network: Network) -> None:
    network.answer("computeValue", {"ref_2019": 1.0, "ref_2020": 0.5, "y2y_2020": 0.5}, {})
    t = temporal.point_trajectory(POINTS[0], 2019)
    reduce = only_call(graph(network.last("computeValue")), "Image.reduceRegion")
    assert const(only_call(reduce["geometry"], "GeometryConstructors.Point")["coordinates"]) == list(POINTS[0])
    assert calls(reduce["reducer"], "Reducer.first") == [{}] and const(reduce["scale"]) == 10
    assert t.to_reference[:2].tolist() == [1.0, 0.5] and t.pixels.tolist() == [1, 1, 0, 0]
    with pytest.raises(NoDataError, match="no embeddings"):
        temporal.point_trajectory(POINTS[0], 2019)


def test_when_it_changed_is_the_max_of_change_and_year_pairs(temporal: EETemporal) -> None:
    g = graph(temporal.change_years())
    reduce = only_call(g, "ImageCollection.reduce")
    assert const(only_call(reduce["reducer"], "Reducer.max")["numInputs"]) == 2
    pairs = reduce["collection"]["functionInvocationValue"]["arguments"]["images"]["arrayValue"]["values"]
    assert len(pairs) == len(YEARS) - 1
    for pair, year in zip(pairs, YEARS[1:]):
        change, when = pair["functionInvocationValue"]["arguments"].values()
        one = only_call(change, "Image.subtract")
        assert const(only_call(one["image1"], "Image.constant")["value"]) == 1
        assert year_of(when) == year
        assert years_in(dots(change)[0]["image"])[-1] == str(year)  # this year against an earlier one
    assert const(g["functionInvocationValue"]["arguments"]["names"]) == ["size", "year"]
    clipped = graph(temporal.change_years(AOI_WI))["functionInvocationValue"]
    assert clipped["functionName"] == "Image.clip"


def test_area_per_year_is_one_grouped_request_over_the_years_above_the_threshold(
    temporal: EETemporal, network: Network
) -> None:
    network.answer("computeValue", {"groups": [{"class": 0, "sum": 2e4, "count": 200}, {"class": 2, "sum": 5e3}]})
    areas = temporal.change_year_areas(AOI_WI, 0.25)
    assert network.count() == 1
    assert areas.classes == YEARS[1:] and areas.pixels == (200, 0, 0) and areas.hectares == (2.0, 0.0, 0.5)
    g = graph(network.last("computeValue"))
    # the labels appear twice in the graph (as the grouping band and as the area's mask), the same both times
    remaps = calls(g, "Image.remap")
    assert remaps and all(const(r["from"]) == list(YEARS[1:]) and const(r["to"]) == [0, 1, 2] for r in remaps)
    thresholds = {const(only_call(t["image2"], "Image.constant")["value"]) for t in calls(g, "Image.gte")}
    assert thresholds == {0.25}
    assert len(calls(g, "Reducer.group")) == 1


def year_of(node: dict) -> int:
    return const(calls(node, "Image.constant")[0]["value"])


def test_the_anomaly_is_normalised_by_two_server_side_medians(temporal: EETemporal) -> None:
    g = graph(temporal.anomaly(2021, AOI_WI))
    medians = calls(g, "Image.reduceRegion")
    assert medians and all(calls(m["reducer"], "Reducer.median") == [{}] for m in medians)
    assert all(const(m["scale"]) == 10 for m in medians)
    values = [c["value"] for c in calls(g, "Image.constant")]
    assert 1 in [const(v) for v in values if "constantValue" in v]
    # the median (and the scale) enter the image as numbers computed on the server, not fetched first
    server = [v for v in values if "constantValue" not in v]
    assert server and all(calls(v, "Dictionary.get") for v in server)
    factors = [const(a["right"]) for a in calls(g, "Number.multiply") if "constantValue" in a["right"]]
    assert factors == [MAD_TO_STD]

    def minimum(g: dict) -> set:
        return {const(c["value"]) for a in calls(g, "Image.gte") for c in calls(a["image2"], "Image.constant")}

    assert minimum(g) == {2} and minimum(graph(temporal.anomaly(2021, AOI_WI, min_years=3))) == {3}
    with pytest.raises(YearError):
        temporal.anomaly(2030, AOI_WI)


def test_polygons_are_reduce_to_vectors_and_large_ones_export_as_a_table(
    temporal: EETemporal, network: Network
) -> None:
    collection = temporal.change_polygons(AOI_WI, 0.3, simplify=15, min_pixels=4)
    g = graph(collection)
    vectors = only_call(g, "Image.reduceToVectors")
    assert const(vectors["geometryType"]) == "polygon" and const(vectors["eightConnected"]) is False
    assert const(vectors["labelProperty"]) == "year" and const(vectors["scale"]) == 10
    assert calls(vectors["reducer"], "Reducer.countEvery") == [{}]
    threshold = only_call(vectors["image"], "Image.gte")
    assert const(only_call(threshold["image2"], "Image.constant")["value"]) == 0.3
    at_least = only_call(only_call(g, "Filter.not")["filter"], "Filter.lessThan")  # how ee writes Filter.gte
    assert const(at_least["leftField"]) == "count" and const(at_least["rightValue"]) == 4
    network.answer("computeValue", {"type": "FeatureCollection", "features": []})
    assert temporal.polygons_geojson(collection)["features"] == []
    network.answer("exportTable", {"name": "projects/test-project/operations/T"})
    task = temporal.export_polygons(collection, "gcs", "changes", bucket="b")
    config = network.last("exportTable")[1]
    assert task.task.name.endswith("/T") and config["fileExportOptions"]["fileFormat"] == "GEO_JSON"
    network.answer("exportImage", {"name": "projects/test-project/operations/I"})
    task = temporal.export_task(temporal.change_years().select("year"), AOI_WI, "drive", "when", no_data=-1)
    assert task.task.name.endswith("/I")
