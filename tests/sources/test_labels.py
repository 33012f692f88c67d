"""Labels on disk: GeoJSON round trips keep every property; CSVs load; bad files and far-away labels say so."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aef_widgets import sample_source
from aef_widgets.core.bands import BAND_NAMES
from aef_widgets.core.errors import LabelsError, NoDataError
from aef_widgets.sources.labels import (
    LabelPoint,
    load_labels,
    load_values,
    outside,
    require_inside,
    save_labels,
    vectors_of,
)


def test_geojson_round_trip_keeps_every_property_exactly(tmp_path):
    vector = np.random.default_rng(0).normal(size=64).astype(np.float32)
    points = [
        LabelPoint(-88.7712345678901, 44.2954321, "forest", 2024, tuple(map(float, vector)), {"note": "by the lake"}),
        LabelPoint(-88.77, 44.3, np.int64(3), None, None, {"who": {"name": "A", "n": [1, 2]}, "weight": 0.1}),
    ]
    path = save_labels(tmp_path / "labels.geojson", points)
    loaded = load_labels(path)
    assert loaded[0] == points[0]
    assert loaded[1] == LabelPoint(-88.77, 44.3, 3, None, None, points[1].properties)
    np.testing.assert_array_equal(vectors_of(loaded)[0], vector)  # float32 -> JSON -> float32 is exact
    assert np.isnan(vectors_of(loaded)[1]).all()
    # the file is plain GeoJSON with the documented properties, read here with json alone
    feature = json.loads(path.read_text())["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [points[0].lon, points[0].lat]}
    props = feature["properties"]
    assert (props["class"], props["year"], props["lon"], props["lat"], props["note"]) == (
        "forest", 2024, points[0].lon, points[0].lat, "by the lake")  # fmt: skip
    assert [props[b] for b in BAND_NAMES] == [float(v) for v in vector]
    # a second round trip changes nothing in the file
    assert save_labels(tmp_path / "again.geojson", loaded).read_text() == path.read_text()


def test_csv_loads_classes_values_years_and_extra_columns(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("Longitude,Latitude,class,year,plot\n-88.77,44.29,water,2023,p1\n-88.76,44.30,urban,,p2\n")
    points = load_labels(path)
    assert points == [
        LabelPoint(-88.77, 44.29, "water", 2023, None, {"plot": "p1"}),
        LabelPoint(-88.76, 44.30, "urban", None, None, {"plot": "p2"}),
    ]
    heights = tmp_path / "heights.csv"
    heights.write_text("lon,lat,value\n-88.77,44.29,12.5\n-88.76,44.3,30\n")
    assert [p.target for p in load_values(heights)] == [12.5, 30.0]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.csv", "x_coord,lat,class\n1,2,a\n", "needs columns lon, lat and class"),
        ("a.csv", "lon,lat,class\nabc,2,a\n", "line 2 of a.csv: lon and lat must be numbers"),
        ("a.csv", "lon,lat,class\n300,2,a\n", "not a lon/lat position"),
        ("a.csv", "lon,lat,class\n1,2,\n", "line 2 of a.csv has no class"),
        ("a.csv", "lon,lat,value\n1,2,tall\n", "the value must be a number"),
        ("a.geojson", "{not json", "not valid GeoJSON"),
        ("a.geojson", '{"type": "Polygon"}', "not a GeoJSON FeatureCollection"),
        ("a.geojson", '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
         '{"type": "Polygon", "coordinates": []}, "properties": {"class": "a"}}]}', "is a Polygon, not a Point"),
        ("a.geojson", '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
         '{"type": "Point", "coordinates": [1, 2]}, "properties": {"class": "a", "year": "last"}}]}', "year must be"),
    ],
)  # fmt: skip
def test_bad_files_are_clear_errors(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    target = "value" if "value" in text else "class"
    with pytest.raises(LabelsError, match=message):
        load_labels(path, target)


def test_missing_and_binary_files_are_clear_errors(tmp_path):
    with pytest.raises(LabelsError, match="cannot read labels"):
        load_labels(tmp_path / "nope.geojson")
    (tmp_path / "b.csv").write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(LabelsError, match="not a text file"):
        load_labels(tmp_path / "b.csv")


def test_labels_outside_the_data_say_so():
    source = sample_source()
    west, south, east, north = source.footprint.lonlat_bounds()
    inside = LabelPoint((west + east) / 2, (south + north) / 2, "a")
    far = LabelPoint(2.35, 48.85, "b")  # Paris
    np.testing.assert_array_equal(outside([inside, far, inside], source.footprint), [False, True, False])
    require_inside([inside], source.footprint)
    with pytest.raises(NoDataError, match=r"1 of 2 labels lie outside the sample .*another place"):
        require_inside([inside, far], source.footprint, "the sample")
