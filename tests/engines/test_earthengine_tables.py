"""The tables on Earth Engine, built offline (real ``ee`` objects from the API's algorithm signatures, only
``ee.data`` stubbed): the request is read back as a graph, and the columns are checked against the sums answered.

Earth Engine's weighted reducers (``ee.Reducer.sum()`` in ``reduceRegions``) weigh each pixel by the fraction of it
inside the polygon (developers.google.com/earth-engine/guides/reducers_weighting), the weighting exactextract uses,
so the summed unit vectors and the summed ones are what the local tables accumulate.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from aef_widgets.core.bands import BAND_NAMES
from aef_widgets.engines import earthengine_tables
from aef_widgets.engines.tables import sample_points, zonal_embeddings
from aef_widgets.sources.earthengine import EarthEngineSource
from tests.earthengine_offline import POINTS, Network, calls, const, features, graph, only_call, unit_vectors
from tests.engines.test_earthengine_graphs import unit_bands


def answer(sums: np.ndarray, pixels: np.ndarray) -> dict:
    """A FeatureCollection as ``getInfo`` returns it: per feature its index, 64 sums and ``pixels`` (null where the
    polygon covered no pixel: Earth Engine's sum of nothing)."""
    rows = []
    for i, (s, p) in enumerate(zip(sums, pixels)):
        props = {"aef_index": i, "pixels": float(p) if p else None}
        props.update({b: (float(v) if p else None) for b, v in zip(BAND_NAMES, s)})
        rows.append({"type": "Feature", "properties": props})
    return {"type": "FeatureCollection", "features": rows}


def test_zonal_on_earth_engine_is_reduce_regions_of_unit_vectors_and_ones_summed_in_batches(
    network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(earthengine_tables, "BATCH", 2)
    sea = shapely.box(-10.0, 0.0, -9.99, 0.01)  # no pixels there
    fields = [shapely.box(-88.78, 44.29, -88.776, 44.293), shapely.box(-88.77, 44.29, -88.768, 44.291), sea]
    table = gpd.GeoDataFrame({"field": ["a", "b", "c"]}, geometry=fields, crs="EPSG:4326")
    rng = np.random.default_rng(0)
    sums = rng.normal(size=(2, 3, 64)) * 5
    pixels = np.array([[120.5, 8.25, 0.0], [119.0, 8.25, 0.0]])
    # the third polygon lies in another zone (29N), so it is a batch of its own: requests of 2 and 1 per year
    for y in range(2):
        network.answer("computeValue", answer(sums[y, :2], pixels[y, :2]), answer(sums[y, 2:], pixels[y, 2:]))
    out = zonal_embeddings(EarthEngineSource(years=[2023, 2024]), table, [2023, 2024])
    assert network.count("computeValue") == 4
    first = only_call(graph(network.calls["computeValue"][0]), "Image.reduceRegions")
    assert const(first["scale"]) == 10
    assert const(only_call(first["crs"], "Projection")["crs"]) == "EPSG:32616"
    assert calls(first["reducer"], "Reducer.sum") == [{}] and not calls(first["reducer"], "Reducer.unweighted")
    added = only_call(first["image"], "Image.addBands")
    unit_bands(added["dstImg"])
    assert const(only_call(added["srcImg"], "Image.rename")["names"]) == ["pixels"]
    assert calls(added["srcImg"], "Image.mask") and calls(added["srcImg"], "Reducer.min") == [{}]
    last = only_call(graph(network.calls["computeValue"][1]), "Image.reduceRegions")
    assert const(only_call(last["crs"], "Projection")["crs"]) == "EPSG:32629"
    assert list(out["field"]) == ["a", "a", "b", "b", "c", "c"] and list(out["year"]) == [2023, 2024] * 3
    for i in range(2):
        for y in range(2):
            row = out.iloc[2 * i + y]
            mean = sums[y, i] / pixels[y, i]
            np.testing.assert_allclose(row[list(BAND_NAMES)].to_numpy(float), mean / np.linalg.norm(mean), atol=1e-6)
            assert row["pixels"] == pixels[y, i] and row["spread"] == pytest.approx(1 - np.linalg.norm(mean))
            area_px = table.to_crs("EPSG:32616").geometry.iloc[i].area / 100
            assert row["coverage"] == pytest.approx(pixels[y, i] / area_px)
    sea = out[out["field"] == "c"]
    assert (sea["pixels"] == 0).all() and sea[list(BAND_NAMES)].isna().all().all()


def test_points_on_earth_engine_are_sampled_in_batches_with_valid(network: Network, monkeypatch) -> None:
    monkeypatch.setattr(earthengine_tables, "BATCH", 3)
    vectors = unit_vectors(5)
    first = features(vectors[:3])
    first["features"][1]["properties"]["A07"] = None  # a masked pixel
    network.answer("computeValue", first, features(vectors[3:]))
    table = gpd.GeoDataFrame({"plot": range(5)}, geometry=gpd.points_from_xy(*zip(*POINTS)), crs="EPSG:4326")
    out = sample_points(EarthEngineSource(years=[2024]), table)
    assert network.count("computeValue") == 2
    assert list(out["valid"]) == [True, False, True, True, True]
    got = out[list(BAND_NAMES)].to_numpy(np.float32)
    np.testing.assert_array_equal(got[[0, 2, 3, 4]], vectors[[0, 2, 3, 4]])
    assert np.isnan(got[1]).all()
