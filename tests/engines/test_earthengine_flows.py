"""The Earth Engine engine end to end, with only the network functions of ``ee.data`` stubbed.

Answers are shaped like Earth Engine's; call counts prove each layer costs one map request and nothing is
requested in a loop.
"""

from __future__ import annotations

import httplib2
import numpy as np
import pytest
import rasterio
import requests
from affine import Affine
from google.auth.exceptions import RefreshError
from googleapiclient.errors import HttpError

from aef_widgets.analysis.composite import BandStretch
from aef_widgets.core.bands import BAND_NAMES
from aef_widgets.core.errors import EarthEngineError, NoDataError
from aef_widgets.engines import earthengine_products as products
from aef_widgets.engines import engine_for
from aef_widgets.engines.base import Tiles
from aef_widgets.engines.earthengine import EarthEngineEngine
from aef_widgets.engines.ee_export import download_labels
from aef_widgets.rendering.view import MapView
from aef_widgets.sources import earthengine as ee_source
from aef_widgets.sources.base import ATTRIBUTION
from aef_widgets.sources.earthengine import EarthEngineSource, pixel_grid
from tests.earthengine_offline import AOI_WI, POINTS, Network, features, map_id, unit_vectors

URL = "https://earthengine.googleapis.com/v1/projects/test-project/maps/xyz/tiles/{z}/{x}/{y}"
VIEW = MapView(-88.8, 44.28, -88.74, 44.31, 800, 500)
OTHER_VIEW = MapView(-90.0, 43.0, -87.0, 45.0, 800, 500)


def test_engine_for_an_earth_engine_source_is_the_earth_engine_engine(ee_offline: None) -> None:
    assert isinstance(engine_for(EarthEngineSource()), EarthEngineEngine)


def test_rgb_layer_is_tiles_from_one_map_request_whatever_the_view(engine: EarthEngineEngine, network: Network) -> None:
    network.answer("getMapId", map_id(URL))
    product = engine.rgb(2024, BandStretch())
    assert product.view_dependent is False
    assert network.count() == 0  # building a product requests nothing
    layer = product.layer(engine.context, VIEW)
    assert layer == Tiles(URL, ATTRIBUTION)
    assert product.layer(engine.context, OTHER_VIEW) == layer
    assert network.count() == network.count("getMapId") == 1


def test_similarity_readout_is_the_local_dot_product_of_the_sampled_vectors(
    engine: EarthEngineEngine, network: Network
) -> None:
    vectors = unit_vectors(5, seed=4)
    network.answer("computeValue", features(vectors))
    product = engine.similarity(2024, POINTS, AOI_WI)
    assert network.count() == network.count("computeValue") == 1  # five points, one request
    expected = float(vectors[-1].astype(np.float64) @ vectors.astype(np.float64).mean(axis=0))
    assert product.readout == pytest.approx(expected, rel=1e-6)
    np.testing.assert_allclose(product.reference, vectors.mean(axis=0), rtol=1e-6, atol=1e-7)


def test_similarity_layers_and_areas_cost_one_request_each_and_are_remembered(
    engine: EarthEngineEngine, network: Network
) -> None:
    network.answer("computeValue", features(unit_vectors(2)))
    product = engine.similarity(2024, POINTS[:2], AOI_WI)
    assert product.view_dependent is False
    network.answer("getMapId", map_id(URL), map_id(URL + "?t=0.9"), map_id(URL + "?t=0.8"))
    assert product.layer(engine.context, VIEW).url == URL
    assert product.above_layer(engine.context, 0.9, VIEW).url == URL + "?t=0.9"
    assert product.above_layer(engine.context, 0.9, OTHER_VIEW).url == URL + "?t=0.9"
    assert product.above_layer(engine.context, 0.8, VIEW).url == URL + "?t=0.8"
    assert network.count("getMapId") == 3
    network.answer("computeValue", {"valid": 2_000_000.0, "above": 500_000.0})
    area = product.above_area(engine.context, 0.9)
    assert (area.hectares, area.percent, area.scope) == (50.0, 25.0, "in the AOI at 10 m")
    assert product.above_area(engine.context, 0.9) == area
    assert network.count("computeValue") == 2


def test_an_area_with_no_valid_pixels_or_no_region_says_so(engine: EarthEngineEngine, network: Network) -> None:
    network.answer("computeValue", features(unit_vectors(1)), {"valid": None, "above": None})
    with pytest.raises(NoDataError, match="no embeddings in the AOI"):
        engine.similarity(2024, POINTS[:1], AOI_WI).above_area(engine.context, 0.5)
    network.answer("computeValue", features(unit_vectors(1)))
    with pytest.raises(NoDataError, match="draw an AOI"):
        engine.similarity(2024, POINTS[:1], None).above_area(engine.context, 0.5)


def test_a_click_without_data_is_refused_and_masked_points_come_back_as_nan(
    engine: EarthEngineEngine, network: Network
) -> None:
    answer = features(unit_vectors(3))
    for band in BAND_NAMES:
        answer["features"][1]["properties"][band] = None  # Earth Engine's null for a masked pixel
    del answer["features"][2]["properties"]["A07"]
    network.answer("computeValue", answer, answer)
    vectors = engine.source.sample(POINTS[:3], 2024)
    assert np.isfinite(vectors[0]).all() and np.isnan(vectors[1:]).all()
    with pytest.raises(NoDataError, match="no embedding at that point"):
        engine.similarity(2024, POINTS[:3], AOI_WI)


def test_change_area_and_layers(engine: EarthEngineEngine, network: Network) -> None:
    product = engine.change(2018, 2024, None)
    network.answer("getMapId", map_id(URL), map_id(URL + "?changed"))
    network.answer("computeValue", {"valid": 1e6, "above": 1e5})
    assert product.layer(engine.context, VIEW).url == URL
    assert product.above_layer(engine.context, 0.3, VIEW).url == URL + "?changed"
    area = product.above_area(engine.context, 0.3, VIEW)
    assert (area.hectares, area.percent) == (10.0, 10.0)
    assert area.scope.startswith("in the view at ")
    assert network.count() == 3
    with pytest.raises(ValueError, match="two different years"):
        engine.change(2024, 2024, AOI_WI)


def test_clusters_areas_come_from_one_grouped_sum(engine: EarthEngineEngine, network: Network) -> None:
    groups = {"groups": [{"class": 0, "sum": 30_000.0, "count": 300}, {"class": 2, "sum": 10_000.0, "count": 100}]}
    network.answer("computeValue", groups)
    steps: list[float] = []
    product = engine.clusters(2024, AOI_WI, None, n_clusters=3, progress=lambda f, m: steps.append(f))
    assert network.count() == 1
    assert product.areas.classes == (0, 1, 2)
    assert product.areas.pixels == (300, 0, 100)
    assert product.areas.hectares == (3.0, 0.0, 1.0)
    assert product.areas.percent == (75.0, 0.0, 25.0)
    assert steps[-1] == 1.0
    assert product.scope == "in the AOI at 10 m" and len(product.colors) == 3
    network.answer("getMapId", map_id(URL))
    assert product.layer(engine.context, VIEW).url == URL and product.layer(engine.context, OTHER_VIEW).url == URL
    assert network.count("getMapId") == 1


def _embedding_answer(request: dict) -> np.ndarray:
    """A computePixels answer whose values encode each pixel's centre, so pieces can be checked in place."""
    g = request["grid"]
    width, height = g["dimensions"]["width"], g["dimensions"]["height"]
    t = g["affineTransform"]
    cols, rows = np.meshgrid(np.arange(width), np.arange(height))
    x = t["translateX"] + (cols + 0.5) * t["scaleX"]
    y = t["translateY"] + (rows + 0.5) * t["scaleY"]
    out = np.zeros((height, width), dtype=[(b, "<f4") for b in (*BAND_NAMES, "valid")])
    out["A00"], out["A01"], out["valid"] = x / 1e6, y / 1e7, 1.0
    return out


def test_read_window_assembles_pieces_within_the_request_limit(
    engine: EarthEngineEngine, network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ee_source, "MAX_REQUEST_BYTES", 260 * 16 * 16)  # 16 x 16 pixels per request
    grid = engine.source.grid(AOI_WI)
    pieces = -(-grid.width // 16) * -(-grid.height // 16)
    network.answer("computePixels", *[_embedding_answer] * pieces)
    field = engine.source.read_window(grid, 2024)
    assert network.count() == pieces
    assert field.mask.all() and field.values.dtype == np.float32 and field.year == 2024
    x, y = grid.transform @ (np.arange(grid.width) + 0.5, np.full(grid.width, 5.5))
    np.testing.assert_allclose(field.values[5, :, 0], x / 1e6, rtol=1e-6)
    np.testing.assert_allclose(field.values[5, :, 1], y / 1e7, rtol=1e-6)


def test_read_window_masks_what_earth_engine_masked(engine: EarthEngineEngine, network: Network) -> None:
    grid = engine.source.grid(AOI_WI)
    answer = np.zeros(grid.shape, dtype=[(b, "<f4") for b in (*BAND_NAMES, "valid")])
    vectors = unit_vectors(grid.height * grid.width).reshape(*grid.shape, 64)
    for i, band in enumerate(BAND_NAMES):
        answer[band] = vectors[..., i]
    answer["valid"] = 1.0
    answer["valid"][:3, :] = 0.0  # masked: Earth Engine sends zeros and we send the validity band
    for band in BAND_NAMES:
        answer[band][:3, :] = 0.0
        answer[band][10, 10] = 0.0  # unmasked but all zero: a gap, not a vector
    network.answer("computePixels", answer)
    field = engine.source.read_window(grid, 2024)
    expected = np.ones(grid.shape, dtype=bool)
    expected[:3, :] = False
    expected[10, 10] = False
    np.testing.assert_array_equal(field.mask, expected)
    assert np.isnan(field.values[~expected]).all()
    np.testing.assert_array_equal(field.values[expected], vectors[expected])


def test_read_window_refuses_grids_too_large_to_download(engine: EarthEngineEngine, network: Network) -> None:
    source = EarthEngineSource(max_read_pixels=100)
    with pytest.raises(EarthEngineError, match="too many to download"):
        source.read_window(source.grid(AOI_WI), 2024)
    assert network.count() == 0


def _label_answer(request: dict) -> np.ndarray:
    g = request["grid"]["dimensions"]
    labels = np.zeros((g["height"], g["width"]), dtype=[("cluster", "u1")])
    labels["cluster"][:, ::2] = 1
    labels["cluster"][0, :] = 255
    return labels


def test_cluster_export_downloads_a_uint8_geotiff_on_the_utm_grid(engine, network: Network, tmp_path) -> None:
    network.answer("computeValue", {"groups": []})
    product = engine.clusters(2024, AOI_WI, None, n_clusters=2)
    network.answer("computePixels", _label_answer)
    path = product.export(engine.context, tmp_path / "clusters.tif")
    with rasterio.open(path) as ds:
        data = ds.read(1)
        assert (ds.dtypes[0], ds.nodata, ds.crs.to_epsg()) == ("uint8", 255, 32616)
        assert ds.transform == product.grid(engine.context).transform
        assert ds.colormap(1)[1][:3] == (0x87, 0x56, 0x92)
    inside = AOI_WI.mask(product.grid(engine.context))
    assert (data[0] == 255).all() and (data[~inside] == 255).all()
    assert set(np.unique(data[1:][inside[1:]])) == {0, 1}


def test_downloads_go_in_tiles_that_respect_the_request_limit(ee_offline, network: Network, tmp_path) -> None:
    source = EarthEngineSource()
    grid = source.grid(AOI_WI)
    network.answer("computePixels", *[_label_answer] * 12)
    download_labels(source.image(2024).select(0).toUint8(), grid, tmp_path / "x.tif", tile=64)
    assert network.count("computePixels") == -(-grid.width // 64) * -(-grid.height // 64)


def test_large_cluster_exports_point_to_an_export_task(engine, network: Network, monkeypatch, tmp_path) -> None:
    network.answer("computeValue", {"groups": []})
    product = engine.clusters(2024, AOI_WI, None, n_clusters=2)
    monkeypatch.setattr(products, "MAX_DOWNLOAD_PIXELS", 100)
    with pytest.raises(EarthEngineError, match=r"export_task\(engine.context, 'drive'\)"):
        product.export(engine.context, tmp_path / "big.tif")


def test_export_task_progress_is_polled_with_one_request_each(engine, network: Network) -> None:
    network.answer("computeValue", {"groups": []})
    product = engine.clusters(2024, AOI_WI, None, n_clusters=2)
    name = "projects/test-project/operations/ABC"
    network.answer("exportImage", {"name": name})
    task = product.export_task(engine.context, "gcs", bucket="my-bucket")
    assert task.task.name == name
    network.answer(
        "getOperation",
        {"name": name, "metadata": {"state": "PENDING"}},
        {"name": name, "metadata": {"state": "RUNNING", "progress": 0.4}},
        {"name": name, "done": True, "metadata": {"state": "SUCCEEDED", "destinationUris": ["gs://my-bucket/x"]}},
        {"name": name, "done": True, "metadata": {"state": "FAILED"}, "error": {"message": "bad ya29.SECRET"}},
    )
    assert task.status().message == "waiting to start on Earth Engine"
    assert task.progress == 0.4
    done = task.status()
    assert (done.done, done.succeeded, done.progress, done.destination_uris) == (True, True, 1.0, ("gs://my-bucket/x",))
    failed = task.status()
    assert failed.state == "FAILED" and "SECRET" not in failed.message
    assert network.count("getOperation") == 4
    with pytest.raises(ValueError, match="bucket"):
        product.export_task(engine.context, "gcs")


def _http_error(status: int, message: str) -> HttpError:
    content = f'{{"error": {{"code": {status}, "message": "{message}"}}}}'.encode()
    return HttpError(httplib2.Response({"status": status}), content)


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (ee_source.ee.EEException("Earth Engine client library not initialized. See http://goo.gle/ee-auth."),
         "not signed in"),
        (ee_source.ee.EEException("Please authorize access to your Earth Engine account"), "not signed in"),
        (_http_error(429, "Too many concurrent aggregations."), "quota"),
        (ee_source.ee.EEException("Quota exceeded for quota metric 'Requests'"), "quota"),
        (TimeoutError("The read operation timed out"), "took too long"),
        (ee_source.ee.EEException("Computation timed out."), "took too long"),
        (ee_source.ee.EEException("User memory limit exceeded."), "too large"),
        (ee_source.ee.EEException("Image.reduceRegion: Too many pixels in the region."), "too large"),
        (_http_error(403, "Permission denied on project test-project"), "refused access"),
        (ee_source.ee.EEException("Image.select: Pattern 'A00' did not match any bands."), "no AEF embeddings"),
        (ee_source.ee.EEException("Something new"), "Earth Engine failed while drawing the colour composite"),
        (httplib2.ServerNotFoundError("Unable to find the server at earthengine.googleapis.com"), "cannot be reached"),
        (requests.ConnectionError("HTTPSConnectionPool: Max retries exceeded with url"), "cannot be reached"),
        (RefreshError("invalid_grant: Token has been expired or revoked."), "not signed in"),
    ],
)  # fmt: skip
def test_earth_engine_failures_become_plain_errors(engine, network: Network, error: Exception, words: str) -> None:
    network.answer("getMapId", error)
    with pytest.raises(EarthEngineError, match=words) as caught:
        engine.rgb(2024).layer(engine.context, VIEW)
    assert caught.value.__cause__ is error


def test_errors_never_repeat_a_credential(engine: EarthEngineEngine, network: Network) -> None:
    network.answer("getMapId", ee_source.ee.EEException("Bad request with token ya29.a0AfB_secret and key=AIzaSECRET"))
    with pytest.raises(EarthEngineError) as caught:
        engine.rgb(2024).layer(engine.context, VIEW)
    assert "secret" not in str(caught.value).lower() and "[redacted]" in str(caught.value)


def test_failed_area_requests_become_plain_errors_too(engine: EarthEngineEngine, network: Network) -> None:
    network.answer("computeValue", features(unit_vectors(1)), ee_source.ee.EEException("User memory limit exceeded."))
    product = engine.similarity(2024, POINTS[:1], AOI_WI)
    with pytest.raises(EarthEngineError, match="draw a smaller AOI"):
        product.above_area(engine.context, 0.9)


def test_discover_years_is_one_request(ee_offline: None, network: Network) -> None:
    source = EarthEngineSource(years=[2017])
    network.answer("computeValue", [2017.0, 2018.0, 2025.0])
    assert source.discover_years() == (2017, 2018, 2025) == source.years
    assert network.count() == 1


def test_pixel_grid_matches_the_rest_grid_shape(ee_offline: None) -> None:
    grid = EarthEngineSource().grid(AOI_WI, resolution=20)
    request = pixel_grid(grid)
    assert request["affineTransform"]["scaleX"] == 20
    assert Affine(*[request["affineTransform"][k] for k in ("scaleX", "shearX", "translateX", "shearY", "scaleY",
                                                         "translateY")]) == grid.transform  # fmt: skip
