"""ChangeOverYears finds the planted events' years and anomalies, as numpy computes them from the years' fields."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from pyproj import Transformer

from aef_widgets.core.aoi import AOI
from aef_widgets.sources.sample import sample_dir, sample_source, sample_truth
from aef_widgets.widgets import ChangeOverYears, ExplorerState, make_map
from tests.widgets.frontend import rgba

MARGIN = 30  # pixels around an event's mask in its test AOI


@pytest.fixture(scope="module")
def sample():
    return sample_source()


def event_aoi(name: str) -> tuple[AOI, np.ndarray]:
    """An AOI around a planted event, and the event's mask on the AOI's grid."""
    mask = sample_truth().event_mask(name)
    rows, cols = np.nonzero(mask)
    r0, r1, c0, c1 = rows.min() - MARGIN, rows.max() + MARGIN, cols.min() - MARGIN, cols.max() + MARGIN
    with rasterio.open(sample_dir() / "events.tif") as ds:
        (x0, y0), (x1, y1) = ds.xy(r1, c0, offset="ll"), ds.xy(r0, c1, offset="ur")
        to_lonlat = Transformer.from_crs(ds.crs, "EPSG:4326", always_xy=True)
        full = ds.transform
    corners = [to_lonlat.transform(x, y) for x in (x0, x1) for y in (y0, y1)]
    lons, lats = zip(*corners)
    # a little inside the corners, so the AOI's pixels are the box's pixels
    aoi = AOI.from_bounds(min(lons) + 1e-4, min(lats) + 1e-4, max(lons) - 1e-4, max(lats) - 1e-4)
    grid = sample_source().grid(aoi)
    col, row = ~full @ (grid.transform.c, grid.transform.f)
    r, c = round(row), round(col)
    return aoi, mask[r : r + grid.height, c : c + grid.width]


def unit_fields(source, aoi) -> list[np.ndarray]:
    """Every year's vectors in the AOI at unit length, NaN without data."""
    out = []
    for year in source.years:
        f = source.read(aoi, year)
        values = f.values.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append(np.where(f.mask[..., None], values / np.linalg.norm(values, axis=-1)[..., None], np.nan))
    return out


def test_when_it_changed_finds_the_clearing_year_as_numpy_does(sample, runner):
    aoi, truth = event_aoi("clearing")
    m = make_map(sample)
    state = ExplorerState(sample, aoi=aoi, change_threshold=0.3)
    panel = ChangeOverYears(state, map=m, runner=runner)
    panel.show_when.value = True
    product = panel.value
    assert product is not None and product.change.year.shape == truth.shape
    # numpy: the year of the largest 1 - cosine between consecutive years (every pixel has data every year here)
    v = np.stack(unit_fields(sample, aoi))
    change = 1 - (v[1:] * v[:-1]).sum(-1)
    ok = np.isfinite(change).all(0)
    expected = np.asarray(sample.years[1:])[np.argmax(np.where(np.isfinite(change), change, -1), axis=0)]
    assert ok.mean() > 0.9
    assert (product.change.year[ok] == expected[ok]).mean() > 0.999
    # against the truth: what changed by >= 0.3 in 2023 is the clearing
    found = product.change.above(0.3) == 2023
    iou = np.count_nonzero(found & truth) / np.count_nonzero(found | truth)
    assert iou > 0.7
    # the legend's hectares for 2023 are the pixels counted (10 m pixels: 0.01 ha each)
    assert f"{np.count_nonzero(found) * 0.01:,.2f}" in panel.legend.value
    layer = next(x for x in m.layers if x.name == "When it changed")
    image = rgba(layer.url)
    colour = product.colors[product.years.index(2023)]
    hexes = {"#" + bytes(p[:3]).hex() for p in image[image[..., 3] == 255].reshape(-1, 4)[::50]}
    assert colour.lower() in hexes


def test_raising_the_threshold_redraws_and_shrinks_the_areas(sample, runner):
    aoi, _ = event_aoi("clearing")
    m = make_map(sample)
    state = ExplorerState(sample, aoi=aoi, change_threshold=0.0)
    panel = ChangeOverYears(state, map=m, runner=runner)
    panel.show_when.value = True
    low = panel.legend.value
    before = panel.when.computations
    panel.threshold.value = 0.5
    assert panel.legend.value != low and panel.when.computations == before  # the map is not recomputed
    n = np.count_nonzero(panel.value.change.above(0.5) != 0)
    assert f"{n * 0.01:,.2f}" in panel.legend.value


def test_the_anomaly_score_is_numpys_robust_score(sample, runner):
    aoi, truth = event_aoi("construction")
    state = ExplorerState(sample, aoi=aoi, year=2024)
    panel = ChangeOverYears(state, map=make_map(sample), runner=runner)
    panel.show_anomaly.value = True
    product = panel.anomaly_map
    assert product is not None and product.year == 2024
    v = unit_fields(sample, aoi)
    i = list(sample.years).index(2024)
    others = np.nansum([x for j, x in enumerate(v) if j != i], axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = 1 - (v[i] * others).sum(-1) / np.linalg.norm(others, axis=-1)
    median = np.nanmedian(raw)
    score = (raw - median) / (1.4826 * np.nanmedian(np.abs(raw - median)))
    finite = np.isfinite(score)
    np.testing.assert_allclose(product.anomaly.score[finite], score[finite], atol=1e-3)
    above = product.anomaly.score >= state.anomaly_threshold
    assert np.count_nonzero(above & truth) / np.count_nonzero(truth) > 0.8
    assert f"{np.count_nonzero(above) * 0.01:,.1f} ha" in panel.anomalous.value


def test_without_an_aoi_it_says_what_to_do(sample, runner):
    panel = ChangeOverYears(ExplorerState(sample), runner=runner)
    panel.show_when.value = True
    assert "Draw an AOI" in panel.status.value and panel.value is None


def test_exports_read_back_on_the_source_grid(sample, runner, tmp_path):
    import json

    import shapely
    from pyproj import Geod
    from rio_cogeo import cog_validate

    aoi, _ = event_aoi("clearing")
    state = ExplorerState(sample, aoi=aoi, change_threshold=0.3)
    panel = ChangeOverYears(state, runner=runner, export_dir=tmp_path)
    assert panel.export_cog.disabled
    panel.show_when.value = True
    assert not panel.export_cog.disabled
    panel.export_cog.click()
    path = tmp_path / "aef_change_years_0.30.tif"
    assert "Download" in panel.download.value and path.exists()
    assert cog_validate(path, quiet=True)[0]
    grid = panel.value.grid
    with rasterio.open(path) as ds:
        assert ds.crs == grid.crs and ds.transform.almost_equals(grid.transform) and ds.shape == grid.shape
        years = ds.read(1)
    expected = panel.value.change.above(0.3)
    valid = np.isfinite(panel.value.change.size)
    np.testing.assert_array_equal(years[valid], expected[valid])
    assert (years[~valid] == -1).all()
    panel.export_geojson.click()
    features = json.loads((tmp_path / "aef_change_years_0.30.geojson").read_text())["features"]
    geod = Geod(ellps="WGS84")
    area = sum(abs(geod.geometry_area_perimeter(shapely.geometry.shape(f["geometry"]))[0]) for f in features)
    pixels = np.count_nonzero(expected != 0)
    # traced exactly along pixel edges: the same area, within a pixel per polygon and UTM's scale
    assert abs(area - pixels * 100.0) <= len(features) * 100.0 + 0.002 * pixels * 100.0
    found = {f["properties"]["year"] for f in features}
    assert 2023 in found and found <= set(sample.years[1:])
