"""The Fields tab on Earth Engine, driven with the frontend's messages, with every ``ee`` object real and only
``ee.data`` stubbed (tests/earthengine_offline.py).

The stub answers each ``reduceRegions`` request as Earth Engine would over a known raster: it reads the request's
graph (the year from its date filter, each feature's polygon, CRS and index) and returns, per feature, the sums of
the pixels' unit vectors and of ones over the pixels with data, each pixel weighted by the fraction of it inside the
polygon (Earth Engine's weighted reducers, developers.google.com/earth-engine/guides/reducers_weighting; a sum over
no pixel is null). The raster is the real Wisconsin excerpt's float32 file (tests/data/aef-real) in UTM 16N at
10 m, the grid the tab requests: 2022 as it is, 2023 with a block without data, 2024 with that block's vectors
moved from elsewhere. The tab's numbers are checked against the coverage-weighted means computed here from the same
raster (``reference`` of tests/engines/test_tables.py), so a wrong polygon, CRS, year or division shows.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely

from aef_widgets.core.bands import BAND_NAMES
from aef_widgets.engines.earthengine import EarthEngineEngine
from aef_widgets.sources.earthengine import EarthEngineSource
from aef_widgets.widgets import ExplorerState, JobRunner, make_map
from aef_widgets.widgets.fields_panel import FieldsPanel
from tests.conftest import REAL_FLOAT32
from tests.earthengine_offline import Network, calls, const, graph, only_call
from tests.engines.test_tables import reference
from tests.widgets.frontend import click, send_state, upload
from tests.widgets.test_fields_panel import geojson_bytes

YEARS = (2022, 2023, 2024)
BLOCK = (slice(20, 50), slice(30, 70))


@pytest.fixture(scope="module")
def raster() -> tuple[dict[int, np.ndarray], rasterio.Affine, str]:
    """Each year's (rows, cols, 64) float64 vectors (NaN: no data), the transform and the CRS."""
    with rasterio.open(REAL_FLOAT32) as ds:
        data, transform, crs = np.moveaxis(ds.read().astype(np.float64), 0, -1), ds.transform, ds.crs
    gap, moved = data.copy(), data.copy()
    gap[BLOCK] = np.nan
    moved[BLOCK] = data[60:90, 50:90]
    return dict(zip(YEARS, (data, gap, moved))), transform, crs.to_string()


def reduce_regions(raster):
    """What Earth Engine answers to a ``reduceRegions`` of the unit vectors and ones, summed with fractions."""
    by_year, transform, crs = raster

    def answer(request) -> dict:
        g = graph(request)
        reduce = only_call(g, "Image.reduceRegions")
        assert const(only_call(reduce["crs"], "Projection")["crs"]) == crs and const(reduce["scale"]) == 10
        year = int(const(calls(g, "DateRange")[0]["start"])[:4])
        rows = []
        for feature in calls(reduce["collection"], "Feature"):
            polygon_args = only_call(feature["geometry"], "GeometryConstructors.Polygon")
            assert const(only_call(polygon_args["crs"], "Projection")["crs"]) == crs
            rings = const(polygon_args["coordinates"])
            polygon = shapely.Polygon(rings[0], rings[1:])
            with np.errstate(invalid="ignore", divide="ignore"):
                pixels, mean, spread = reference(polygon, by_year[year], transform)
            sums = mean * (1 - spread) * pixels  # the sum of the weighted unit vectors
            props = {"aef_index": const(feature["metadata"])["aef_index"], "pixels": float(pixels) or None}
            props.update({b: float(v) if pixels else None for b, v in zip(BAND_NAMES, sums)})
            rows.append({"type": "Feature", "properties": props})
        return {"type": "FeatureCollection", "features": rows}

    return answer


def fields(raster) -> gpd.GeoDataFrame:
    _, transform, crs = raster
    x0, y0 = transform.c, transform.f
    box = lambda c0, r0, c1, r1: shapely.box(x0 + 10 * c0, y0 - 10 * r1, x0 + 10 * c1, y0 - 10 * r0)  # noqa: E731
    holed = box(5.5, 55.3, 40.2, 90.6).difference(box(15.1, 65.2, 25.3, 75.8))
    shapes = [box(33.4, 23.5, 66.2, 46.6), box(60.3, 10.4, 80.7, 35.2), holed, box(72.2, 60.1, 90.4, 85.3),
              box(3.3, 3.1, 20.8, 15.6)]  # fmt: skip
    return gpd.GeoDataFrame({"name": ["inside", "across", "holed", "east", "corner"]}, geometry=shapes, crs=crs)


def expected_means(raster, table) -> dict[int, np.ndarray]:
    """(fields, 64) unit means per year (NaN rows: no data), computed here from the raster."""
    by_year, transform, _ = raster
    out = {}
    for year, values in by_year.items():
        rows = []
        for polygon in table.geometry:
            with np.errstate(invalid="ignore", divide="ignore"):
                pixels, mean, _ = reference(polygon, values, transform)
            rows.append(mean if pixels > 0 else np.full(64, np.nan))
        out[year] = np.stack(rows)
    return out


def test_the_fields_tab_on_earth_engine_measures_the_fields_and_charts_a_field(network: Network, raster):
    server = reduce_regions(raster)
    network.answer("computeValue", *[server] * 20)
    table = fields(raster)
    state = ExplorerState(EarthEngineSource(years=list(YEARS)), year=2024)
    assert isinstance(state.engine, EarthEngineEngine)
    m = make_map(None, ee_initialize=False, center=(44.3, -88.78), zoom=14)
    panel = FieldsPanel(state, map=m, runner=JobRunner.inline())
    upload(panel.upload, "fields.geojson", geojson_bytes(table))
    assert "5 fields from fields.geojson" in panel.notice.value and panel.status.value == ""
    means = expected_means(raster, table)
    got = panel.product.table[list(BAND_NAMES)].to_numpy(np.float64)
    np.testing.assert_allclose(got, means[2024], atol=1e-5)
    assert network.count("computeValue") == 1  # one batch, one year

    # a click: fields like the clicked one, and the clicked field's years (one request per year for it)
    panel.picking.value = True
    point = table.to_crs("EPSG:4326").geometry.iloc[1].representative_point()
    click(m, point.x, point.y)
    np.testing.assert_allclose(panel.product.values, means[2024] @ means[2024][1], atol=1e-5)
    v = np.stack([means[y][1] for y in YEARS])
    lines = panel.chosen.lines
    np.testing.assert_allclose(lines.y[0], 1 - v @ v[0], atol=1e-5)
    np.testing.assert_allclose(lines.y[1], [np.nan, 1 - v[1] @ v[0], 1 - v[2] @ v[1]], atol=1e-5, equal_nan=True)
    assert network.count("computeValue") == 1 + len(YEARS)

    # the field inside the block: no data in 2023, so 2024 is compared with 2022, not with a made-up 2023
    send_state(panel.rows, {"index": [p for _, p in panel.rows.options].index(0)})
    inside = panel.chosen.value
    assert list(inside["pixels"] > 0) == [True, False, True] and np.isnan(lines.y[0][1])
    assert lines.y[1][2] == pytest.approx(1 - means[2024][0] @ means[2022][0], abs=1e-5) and lines.y[1][2] > 0.05

    # the largest change from a year to the next, over the three years: the other two years are requested once
    state.field_product = "steps"
    frame = panel.product.frame()
    for f in range(len(table)):
        with_data = [y for y in YEARS if np.isfinite(means[y][f]).all()]  # each year against the last with data
        steps = {b: 1 - means[b][f] @ means[a][f] for a, b in zip(with_data, with_data[1:])}
        year = max(steps, key=steps.get)
        assert frame["largest_change"][f] == pytest.approx(steps[year], abs=1e-5) and frame["changed_in"][f] == year
    assert network.count("computeValue") == 1 + 3 * len(YEARS) - 1


def test_a_failed_trajectory_says_why_and_leaves_no_other_fields_chart(network: Network, raster):
    import ee

    server = reduce_regions(raster)
    table = fields(raster)
    state = ExplorerState(EarthEngineSource(years=list(YEARS)), year=2024)
    m = make_map(None, ee_initialize=False, center=(44.3, -88.78), zoom=14)
    panel = FieldsPanel(state, map=m, runner=JobRunner.inline())
    network.answer("computeValue", *[server] * 4)  # the layer's table, then field 1's three years
    upload(panel.upload, "fields.geojson", geojson_bytes(table))
    panel.picking.value = True
    point = table.to_crs("EPSG:4326").geometry.iloc[1].representative_point()
    click(m, point.x, point.y)
    assert panel.chosen.chart.layout.visibility == "visible" and "across" in panel.chosen.summary.value
    network.answer("computeValue", ee.EEException("Quota exceeded: too many concurrent aggregations."))
    send_state(panel.rows, {"index": [p for _, p in panel.rows.options].index(3)})
    assert "quota" in panel.chosen.status.value.lower() and "Traceback" not in panel.chosen.status.value
    assert panel.chosen.chart.layout.visibility == "hidden" and panel.chosen.summary.value == ""  # not field 1's
    assert panel.state.field_chosen == 3 and m.layers[-1].name == "Chosen field"  # the choice is outlined all the same
    network.answer("computeValue", *[server] * 3)
    send_state(panel.rows, {"index": [p for _, p in panel.rows.options].index(2)})
    assert panel.chosen.chart.layout.visibility == "visible" and "holed" in panel.chosen.summary.value
    assert panel.chosen.status.value == ""
