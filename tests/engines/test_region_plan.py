"""The plan shown before a region search (``engines/region_plan.py``): sizes against pyproj's geodesy and the
sample's known grid, the estimate against the benchmark run it is derived from (README, "Find every place like
this": 8,192 x 8,192 px, exact 2,486 MB in 148 s; coarse-to-fine 211 MB in 11.5 s), refusals in the library's
words."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from aef_widgets.core.aoi import AOI
from aef_widgets.engines import engine_for, region_search
from aef_widgets.engines.earthengine import EarthEngineEngine
from aef_widgets.engines.region_plan import estimate_search, plan_search, widened
from aef_widgets.sources.earthengine import EarthEngineSource
from aef_widgets.sources.sample import sample_source
from tests.earthengine_offline import AOI_WI

TILE = 8192 * 8192


def test_the_estimate_reproduces_the_benchmark_it_is_derived_from():
    exact = estimate_search(TILE, exact=True)
    assert exact.bytes_typical == exact.bytes_most == pytest.approx(2486e6)
    assert exact.seconds_typical == pytest.approx(148)
    coarse = estimate_search(TILE, exact=False)
    # the model (the 80 m level, plus the measured share of the region at 10 m) against the measured run
    assert coarse.bytes_typical == pytest.approx(211e6, rel=0.15)
    assert coarse.seconds_typical == pytest.approx(11.5, rel=0.25)
    assert coarse.bytes_most == pytest.approx(2486e6 * (1 + 1 / 64))  # were every tile position read at 10 m
    # twice the threads, half the time; memory and bytes unchanged
    assert estimate_search(TILE, exact=True, threads=4).seconds_typical == pytest.approx(74)
    assert "2.5 GB read, 2 min" in str(exact)


def test_a_plan_on_the_sample_counts_its_pixels_and_the_region_s_area():
    source = sample_source()
    bounds = source.footprint.lonlat_bounds()
    region = widened(bounds, 2)
    plan = plan_search(engine_for(source), region)
    assert (plan.width_px, plan.height_px) == (1024, 1024)  # the sample's pixels, all inside the region
    west, south, east, north = region.bounds
    assert (west + east) / 2 == pytest.approx((bounds[0] + bounds[2]) / 2)
    assert east - west == pytest.approx(2 * (bounds[2] - bounds[0]))
    assert plan.area_km2 == pytest.approx(region.area_km2)
    assert not plan.refusal and "in this process" in str(plan) and "(an estimate)" in str(plan)


def test_too_large_for_this_process_is_refused_in_the_library_s_words(monkeypatch):
    source = sample_source()
    monkeypatch.setattr(region_search, "MAX_LOCAL_PX", 100_000)  # below the sample's 1,024 x 1,024 px
    region = AOI.from_bounds(*source.footprint.lonlat_bounds())
    assert not plan_search(engine_for(source), region).refusal  # coarse-to-fine reads 128 x 128 px first
    plan = plan_search(engine_for(source), region, exact=True)
    assert "1,024 x 1,024 pixels" in plan.refusal and "Dask" in plan.refusal and "Earth Engine" in plan.refusal
    assert str(plan).startswith(f"{region.area_km2:,.1f} km², 1,024 x 1,024 px at 10 m")


def test_an_earth_engine_plan_is_arithmetic_on_the_region(ee_offline):
    plan = plan_search(EarthEngineEngine(EarthEngineSource()), AOI_WI, top=250)
    west, south, east, north = AOI_WI.bounds
    geod = Geod(ellps="WGS84")
    wide = geod.inv(west, (south + north) / 2, east, (south + north) / 2)[2]
    tall = geod.inv(west, south, west, north)[2]
    assert plan.width_px == pytest.approx(wide / 10, rel=0.01) and plan.height_px == pytest.approx(tall / 10, rel=0.01)
    assert plan.estimate.seconds_typical is None and plan.estimate.bytes_typical == 250 * 200
    assert "on Earth Engine" in str(plan) and "one request" in str(plan)


@pytest.mark.parametrize(
    "view, n, centre",
    [
        ((178.0, -17.5, 182.0, -16.5), 4, 180.0),  # Fiji, the view across the antimeridian (Leaflet: east > 180)
        ((193.0, 60.0, 197.0, 61.0), 2, -165.0),  # the Bering Sea, the map panned one world east (lon 195)
        ((-183.0, 51.0, -179.0, 52.0), 2, 179.0),  # the Aleutians, panned one world west
    ],
)
def test_a_view_past_the_antimeridian_is_widened_around_its_own_centre(view, n, centre):
    """The view N times wider is the box around the view's centre, wherever Leaflet's longitudes put it: cut at
    180 degrees, the Fiji region kept its western half only, and a view panned past 180 degrees became a box
    somewhere else (Bering Sea at 175..180 E) or no box at all. Area against pyproj's geodesic area of the box."""
    region = widened(view, n)
    west, south, east, north = view
    half_w, half_h = n * (east - west) / 2, n * (north - south) / 2
    cy = (south + north) / 2
    w, e, s, n_ = centre - half_w, centre + half_w, cy - half_h, cy + half_h
    edge = np.linspace(0, 1, 200)  # lon/lat-straight edges, as the mask uses them
    lons = np.concatenate([w + (e - w) * edge, np.full(200, e), e - (e - w) * edge, np.full(200, w)])
    lats = np.concatenate([np.full(200, s), s + (n_ - s) * edge, np.full(200, n_), n_ - (n_ - s) * edge])
    expected = abs(Geod(ellps="WGS84").polygon_area_perimeter(lons, lats)[0])
    assert region.area_km2 == pytest.approx(expected / 1e6, rel=2e-3)
    r_west, r_south, r_east, r_north = region.bounds
    assert (r_south, r_north) == pytest.approx((cy - half_h, cy + half_h))
    assert ((r_west + r_east) / 2 - centre + 180) % 360 - 180 == pytest.approx(0, abs=1e-9)
    assert r_east - r_west == pytest.approx(2 * half_w)


def test_a_small_region_s_size_and_time_are_not_rounded_away():
    """A field-sized AOI was "0.0 km²" and its time "under a second (up to under a second)": its area now shows in
    hectares with its digits (against pyproj's geodesic area), and a bound equal in words to the estimate is not
    repeated."""
    source = sample_source()
    lon, lat = source.footprint.center_lonlat
    region = AOI.from_bounds(lon, lat, lon + 0.002, lat + 0.001)  # about 160 x 110 m
    text = str(plan_search(engine_for(source), region))
    assert "0.0 km²" not in text and "up to under a second" not in text
    edge = np.linspace(0, 1, 50)
    w, s, e, n = region.bounds
    lons = np.concatenate([w + (e - w) * edge, np.full(50, e), e - (e - w) * edge, np.full(50, w)])
    lats = np.concatenate([np.full(50, s), s + (n - s) * edge, np.full(50, n), n - (n - s) * edge])
    hectares = abs(Geod(ellps="WGS84").polygon_area_perimeter(lons, lats)[0]) / 1e4
    assert text.startswith(f"{hectares:.3g} ha, ")
