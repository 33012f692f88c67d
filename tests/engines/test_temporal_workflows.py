"""Every year of the sample, streamed: the planted events are found in their years, and streaming chunk by chunk
gives what the in-memory analysis gives."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer
from rasterio.windows import Window

from aef_widgets import AOI, sample_source, sample_truth
from aef_widgets.analysis.temporal import anomaly, change_years, pixel_trajectory
from aef_widgets.core.errors import YearError
from aef_widgets.engines import temporal_workflows
from aef_widgets.engines.temporal_workflows import (
    anomaly_grid,
    change_years_grid,
    point_trajectory,
    trajectory_grid,
)
from aef_widgets.sources.base import mask_to_aoi, subgrid

THRESHOLD = 0.25


@pytest.fixture(scope="module")
def source():
    return sample_source()


@pytest.fixture(scope="module")
def truth():
    return sample_truth()


@pytest.fixture(scope="module")
def when(source):
    return change_years_grid(source, source.grid(None), None)


@pytest.fixture(scope="module")
def anomalies(source):
    return anomaly_grid(source, source.grid(None), None, 2024)


def test_when_it_changed_finds_each_planted_event_in_its_year(when, truth):
    assert when.years == truth.years and when.grid == truth.grid
    flagged = when.above(THRESHOLD)
    events = {e.name: (e, truth.event_mask(e.name)) for e in truth.events}
    for name, minimum in {"fire": 0.8, "clearing": 0.93, "construction": 0.93}.items():
        event, mask = events[name]
        has = mask & (when.year > 0)
        recall = np.count_nonzero(has & (flagged == event.year)) / np.count_nonzero(has)
        assert recall > minimum, (name, recall)  # measured 0.86, 0.98, 0.99
    # the reservoir changes twice, as much when it empties (2024) as when it refills (2025)
    _, mask = events["reservoir"]
    has = mask & (when.year > 0)
    assert np.count_nonzero(has & np.isin(flagged, [2024, 2025])) / np.count_nonzero(has) > 0.95  # measured 0.99
    # the slow change never shows as a change between consecutive years
    _, slow = events["abandonment"]
    assert np.count_nonzero(slow & (flagged > 0)) / np.count_nonzero(slow) < 0.05  # measured 0.005
    # precision: what is flagged in a year is an event of that year
    for year in (2019, 2023, 2024):
        planted = np.zeros(truth.grid.shape, bool)
        for e, m in events.values():
            if year in e.steps and e.kind != "gradual":
                planted |= m
        flagged_year = flagged == year
        precision = np.count_nonzero(flagged_year & planted) / np.count_nonzero(flagged_year)
        assert precision > 0.75, (year, precision)  # measured 0.80 (2019) to 0.95


def test_areas_per_year_add_up_to_the_changed_pixels(when):
    areas = when.areas(THRESHOLD)
    assert areas.classes == when.years[1:]
    flagged = when.above(THRESHOLD)
    for year, pixels, ha in zip(areas.classes, areas.pixels, areas.hectares):
        assert pixels == np.count_nonzero(flagged == year) and ha == pytest.approx(pixels * 0.01)


def test_a_one_year_departure_is_the_strongest_anomaly(anomalies, truth):
    score = anomalies.score
    assert anomalies.year == 2024 and anomalies.years == truth.years
    assert np.nanmedian(score) == pytest.approx(0, abs=1e-3)
    medians = {e.name: float(np.nanmedian(score[truth.event_mask(e.name)])) for e in truth.events}
    assert max(medians, key=medians.get) == "reservoir" and medians["reservoir"] > 10  # measured 27
    # the events of 2024 stand out above 5; elsewhere almost nothing does
    events = np.zeros(truth.grid.shape, bool)
    for e in truth.events:
        events |= truth.event_mask(e.name)
    stable = ~events & np.isfinite(score)
    assert np.count_nonzero(score[stable] > 5) / np.count_nonzero(stable) < 0.01  # measured 0.004
    recent = truth.event_mask("reservoir") | truth.event_mask("construction")
    assert np.nanmean(score[recent] > 5) > 0.9


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(temporal_workflows, "CHUNK_BYTES", 64 * 64 * 256)  # 64 px chunks


def test_streaming_in_chunks_equals_the_analysis_of_whole_reads(source, small_chunks):
    grid = subgrid(source.grid(None), Window(0, 864, 160, 160))  # the south-west corner, with its nodata wedge
    fields = [source.read_window(grid, year) for year in source.years]
    assert any(not f.mask.all() for f in fields)
    whole = change_years(fields, source.years)
    streamed = change_years_grid(source, grid, None, workers=2)
    np.testing.assert_array_equal(streamed.year, whole.year)
    np.testing.assert_allclose(streamed.size, whole.size, rtol=1e-6, equal_nan=True)
    raw = anomaly(fields, source.years, 2022)
    np.testing.assert_allclose(anomaly_grid(source, grid, None, 2022, workers=2).raw, raw, rtol=1e-6, equal_nan=True)
    # the AOI-mean trajectory is the mean of numpy dot products at unit length
    t = trajectory_grid(source, grid, None, 2018, workers=2)
    unit = [f.values / np.linalg.norm(f.values, axis=-1, keepdims=True) for f in fields]
    expected = [np.nanmean(np.einsum("rck,rck->rc", u, unit[0])) for u in unit]
    np.testing.assert_allclose(t.to_reference, expected, rtol=1e-5)
    assert t.pixels.tolist() == [int(np.count_nonzero(f.mask & fields[0].mask)) for f in fields]


def test_the_trajectory_of_a_pixel_is_its_dot_products(source, truth):
    rows, cols = np.nonzero(truth.event_mask("fire"))
    row, col = int(rows[len(rows) // 2]), int(cols[len(cols) // 2])
    x, y = truth.grid.transform @ (col + 0.5, row + 0.5)
    lon, lat = Transformer.from_crs(truth.grid.crs, "EPSG:4326", always_xy=True).transform(x, y)
    t = point_trajectory(source, (lon, lat), 2018)
    pixel = subgrid(truth.grid, Window(col, row, 1, 1))
    v = np.stack([source.read_window(pixel, year).values[0, 0] for year in source.years]).astype(np.float64)
    u = v / np.linalg.norm(v, axis=1, keepdims=True)
    np.testing.assert_allclose(t.to_reference, u @ u[0], rtol=1e-6)
    np.testing.assert_allclose(t.year_to_year[1:], np.einsum("ik,ik->i", u[1:], u[:-1]), rtol=1e-6)
    assert t.to_reference[1] < 0.8 < t.to_reference[-1]  # burnt in 2019, regrown since
    assert pixel_trajectory(v, source.years, 2018).to_reference == pytest.approx(t.to_reference)


def test_bad_years_are_clear_errors(source):
    grid = subgrid(source.grid(None), Window(0, 0, 64, 64))
    with pytest.raises(YearError, match="2017"):
        change_years_grid(source, grid, None, years=[2017, 2018])
    with pytest.raises(YearError, match="at least two"):
        change_years_grid(source, grid, None, years=[2018])


def test_local_and_earth_engine_temporal_products_have_the_same_methods(source):
    from aef_widgets.engines.earthengine_temporal import EETemporal
    from aef_widgets.engines.local_temporal import LocalTemporal

    shared = {"point_trajectory", "aoi_trajectory", "change_years", "change_year_areas", "anomaly", "change_polygons"}
    assert shared <= set(dir(LocalTemporal)) and shared <= set(dir(EETemporal))
    west, south, east, north = source.footprint.lonlat_bounds()
    aoi = AOI.from_bounds(west + 0.001, south + 0.001, west + 0.02, south + 0.015)  # the south-west corner
    local = LocalTemporal.of(source, [2022, 2023, 2024])
    when = local.change_years(aoi)
    grid = source.grid(aoi)
    expected = change_years([mask_to_aoi(source.read_window(grid, y), aoi) for y in (2022, 2023, 2024)], local.years)
    np.testing.assert_array_equal(when.year, expected.year)
    t = local.aoi_trajectory(aoi, 2022)
    assert t.years == (2022, 2023, 2024) and abs(t.to_reference[0] - 1) < 1e-6
    assert local.change_year_areas(aoi, 0.25) == when.areas(0.25)
    polygons = local.change_polygons(aoi, 0.0)
    assert abs(polygons.total_area_m2 - np.count_nonzero(when.above(0.0) > 0) * 100) < 1e-3
