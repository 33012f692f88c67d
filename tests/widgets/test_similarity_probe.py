"""SimilarityProbe driven by map clicks, checked against numpy and GDAL references."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.enums import Resampling
from rasterio.warp import reproject

from aef_widgets.core.quantization import dequantize
from aef_widgets.widgets import JobRunner, SimilarityProbe
from tests.conftest import REAL_INT8
from tests.widgets.frontend import ManualExecutor, click, decode


def pixel_lonlat(row: int, col: int) -> tuple[float, float]:
    with rasterio.open(REAL_INT8) as ds:
        x, y = ds.transform @ (col + 0.5, row + 0.5)
        return Transformer.from_crs(ds.crs, "EPSG:4326", always_xy=True).transform(x, y)


def reference_values() -> tuple[np.ndarray, rasterio.Affine, rasterio.crs.CRS]:
    """The raster's vectors scaled to unit length (similarity is their cosine), read independently."""
    with rasterio.open(REAL_INT8) as ds:
        values = np.moveaxis(dequantize(ds.read()), 0, -1).astype(np.float64)
        return values / np.linalg.norm(values, axis=2, keepdims=True), ds.transform, ds.crs


def test_click_gives_similarity_one_at_the_clicked_pixel(state, fresh_map, runner):
    probe = SimilarityProbe(state, map=fresh_map, runner=runner)
    values, _, _ = reference_values()
    lon, lat = pixel_lonlat(40, 25)
    click(fresh_map, lon, lat)
    assert probe.value == [(lon, lat)]
    assert probe.product.readout == pytest.approx(1.0, abs=1e-6)
    assert "<b>1.00</b>" in probe.readout.value
    names = [layer.name for layer in fresh_map.layers]
    assert {"Similarity", "Similarity matches", "Similarity references"} <= set(names)


def test_similarity_overlay_equals_a_numpy_and_gdal_reference(state, fresh_map, runner):
    SimilarityProbe(state, map=fresh_map, runner=runner)
    values, transform, crs = reference_values()
    lon, lat = pixel_lonlat(10, 80)
    click(fresh_map, lon, lat)
    layer = next(x for x in fresh_map.layers if x.name == "Similarity")
    image = decode(layer.url)
    assert image.mode == "P"
    # independent reference: dot products with numpy, colour index as documented, warped by GDAL directly
    sim = values @ values[10, 80]
    index = (1 + np.round(np.clip(sim, 0, 1) * 254)).astype(np.uint8)
    (south, west), (north, east) = layer.bounds
    to_3857 = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    left, bottom = to_3857.transform(west, south)
    right, top = to_3857.transform(east, north)
    width, height = image.size
    expected = np.zeros((height, width), dtype=np.uint8)
    dst_transform = rasterio.transform.from_bounds(left, bottom, right, top, width, height)
    reproject(
        index, expected, src_transform=transform, src_crs=crs, dst_transform=dst_transform, dst_crs="EPSG:3857",
        src_nodata=0, dst_nodata=0, resampling=Resampling.nearest,
    )  # fmt: skip
    got = np.asarray(image)
    agree = np.mean(np.abs(got.astype(int) - expected.astype(int)) <= 1)
    assert agree > 0.995


def map_value_at(layer, lon: float, lat: float) -> float:
    """The similarity the map shows at a lon/lat: the overlay's colour index there, decoded as documented."""
    image = np.asarray(decode(layer.url))
    (south, west), (north, east) = layer.bounds
    to_3857 = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    (left, bottom), (right, top) = to_3857.transform(west, south), to_3857.transform(east, north)
    x, y = to_3857.transform(lon, lat)
    row = int((top - y) / (top - bottom) * image.shape[0])
    col = int((x - left) / (right - left) * image.shape[1])
    return (int(image[row, col]) - 1) / 254


REFERENCE_PIXELS = [(5, 5), (70, 40), (20, 80), (50, 50), (88, 12)]


@pytest.mark.parametrize("n", [1, 2, 5])
def test_the_map_at_each_reference_equals_the_readout_and_the_documented_formula(state, fresh_map, runner, n):
    probe = SimilarityProbe(state, map=fresh_map, runner=runner)
    values, _, _ = reference_values()
    pixels = REFERENCE_PIXELS[:n]
    for row, col in pixels:
        click(fresh_map, *pixel_lonlat(row, col))
    # documented: the mean of the pixel's cosines to each reference (independent numpy, per reference)
    expected = np.mean([values @ values[r, c] for r, c in pixels], axis=0)
    last = pixels[-1]
    assert probe.product.readout == pytest.approx(expected[last], abs=1e-5)
    layer = next(x for x in fresh_map.layers if x.name == "Similarity")
    for row, col in pixels:
        shown = map_value_at(layer, *pixel_lonlat(row, col))
        assert shown == pytest.approx(max(0.0, expected[row, col]), abs=1 / 254 + 1e-6)
    assert map_value_at(layer, *pixel_lonlat(*last)) == pytest.approx(probe.product.readout, abs=1 / 254 + 1e-6)
    refs = "this reference alone" if n == 1 else f"all {n} references"
    assert refs in probe.readout.value
    # the matched area counts the same numbers: pixels whose mean cosine is >= the threshold, 100 m² each
    state.similarity_threshold = 0.8
    counted = np.count_nonzero(expected >= 0.8) * 0.01
    assert f"{counted:,.1f} ha" in probe.matches.value
    markers = next(x for x in fresh_map.layers if x.name == "Similarity references")
    assert len(markers.layers) == n


def test_matches_area_equals_the_counted_pixels(state, fresh_map, runner):
    probe = SimilarityProbe(state, map=fresh_map, runner=runner)
    values, _, _ = reference_values()
    click(fresh_map, *pixel_lonlat(50, 50))
    state.similarity_threshold = 0.85
    # the view holds the whole raster at 10 m: 0.01 ha per pixel
    expected_ha = np.count_nonzero(values @ values[50, 50] >= 0.85) * 0.01
    assert f"{expected_ha:,.1f} ha" in probe.matches.value


def test_clear_removes_layers_and_markers(state, fresh_map, runner):
    probe = SimilarityProbe(state, map=fresh_map, runner=runner)
    click(fresh_map, *pixel_lonlat(50, 50))
    probe.clear.click()
    assert probe.value == [] and state.probe_points == []
    assert not {"Similarity", "Similarity matches", "Similarity references"} & {x.name for x in fresh_map.layers}


def test_click_without_data_explains_drops_the_point_and_keeps_working(state, fresh_map, runner):
    probe = SimilarityProbe(state, map=fresh_map, runner=runner)
    click(fresh_map, *pixel_lonlat(1, 1))
    first = probe.product.references.copy()
    click(fresh_map, 10.0, 10.0)
    assert "no embedding at that point" in probe.notice.value
    assert probe.value == [pixel_lonlat(1, 1)]  # the click off the data left no reference behind
    markers = next(x for x in fresh_map.layers if x.name == "Similarity references")
    assert len(markers.layers) == 1
    np.testing.assert_array_equal(probe.product.references, first)
    click(fresh_map, *pixel_lonlat(2, 2))
    assert probe.notice.value == "" and len(probe.value) == 2


def test_clicks_are_ignored_while_not_picking(state, fresh_map, runner):
    probe = SimilarityProbe(state, map=fresh_map, runner=runner)
    probe.picking.value = False
    click(fresh_map, *pixel_lonlat(1, 1))
    assert probe.value == []


def test_a_late_result_never_replaces_a_newer_one(state, fresh_map):
    executor = ManualExecutor()
    probe = SimilarityProbe(state, map=fresh_map, runner=JobRunner(executor))
    values, _, _ = reference_values()
    click(fresh_map, *pixel_lonlat(5, 5))
    first = len(executor.pending)
    probe.clear.click()
    click(fresh_map, *pixel_lonlat(80, 80))
    # run the newer request first, then the older one arrives late
    executor.run(len(executor.pending) - 1)
    executor.run_all()
    assert probe.product.readout == pytest.approx(values[80, 80] @ values[80, 80], abs=1e-6)
    assert first >= 1
    # the reference of the layer on the map is the newer one
    (reference,) = probe.product.references
    assert np.allclose(reference / np.linalg.norm(reference), values[80, 80], atol=1e-6)
