"""GeoJSON content is parsed as content: never opened as a path, size-limited, and every refusal says why."""

from __future__ import annotations

import json
import os
import threading

import pytest

from aef_widgets.core.aoi import AOI
from aef_widgets.core.errors import AOIError
from aef_widgets.core.geojson import MAX_GEOJSON_BYTES

SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [0.1, 0], [0.1, 0.1], [0, 0.1], [0, 0]]]}


def test_text_naming_an_existing_file_is_never_opened(tmp_path):
    path = tmp_path / "secret.geojson"
    path.write_text(json.dumps(SQUARE))
    for text in (str(path), f"  {path}", os.path.relpath(path)):
        with pytest.raises(AOIError, match="not valid GeoJSON") as err:
            AOI.from_geojson(text)
        assert "secret" not in str(err.value) and "No such file" not in str(err.value)
    # a missing file gets the same words, so the message never tells whether a server file exists
    with pytest.raises(AOIError) as missing:
        AOI.from_geojson(str(tmp_path / "nothing.geojson"))
    with pytest.raises(AOIError) as present:
        AOI.from_geojson(str(path))
    assert str(missing.value) == str(present.value)


def test_a_fifo_named_in_text_does_not_block(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def parse() -> None:
        try:
            AOI.from_geojson(str(fifo))
        except AOIError as e:
            outcome.append(e)

    worker = threading.Thread(target=parse, daemon=True)
    worker.start()
    worker.join(5)
    if worker.is_alive():  # unblock the thread that opened the FIFO before failing
        with open(fifo, "w"):
            pass
        pytest.fail("parsing text that names a FIFO blocked")
    assert outcome


def test_paths_go_through_the_explicit_file_call(tmp_path):
    path = tmp_path / "aoi.geojson"
    path.write_text(json.dumps(SQUARE))
    with pytest.raises(TypeError, match="from_geojson_file"):
        AOI.from_geojson(path)
    assert AOI.from_geojson_file(path) == AOI.from_geojson(SQUARE)


def test_the_file_call_reads_only_regular_files_within_the_limit(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(AOIError, match="not a regular file"):
        AOI.from_geojson_file(fifo)
    with pytest.raises(AOIError, match="not a regular file"):
        AOI.from_geojson_file("/dev/zero")
    big = tmp_path / "big.geojson"
    with open(big, "wb") as f:
        f.truncate(MAX_GEOJSON_BYTES + 1)  # sparse: no need to write it
    with pytest.raises(AOIError, match="the limit is 10 MB"):
        AOI.from_geojson_file(big)
    with pytest.raises(AOIError, match="No such file"):
        AOI.from_geojson_file(tmp_path / "missing.geojson")


def test_a_byte_order_mark_and_surrounding_whitespace_are_accepted():
    text = json.dumps(SQUARE)
    expected = AOI.from_geojson(SQUARE)
    assert AOI.from_geojson("\ufeff" + text) == expected
    assert AOI.from_geojson(b"\xef\xbb\xbf" + text.encode()) == expected
    assert AOI.from_geojson(" \n\t" + text + "\n\n") == expected
    assert AOI.from_geojson(memoryview(text.encode())) == expected


@pytest.mark.parametrize(
    "content, message",
    [
        ("[1,2,3]", "must be an object with a 'type'.*not a list"),
        ("42", "must be an object"),
        ('"a string"', "must be an object"),
        ("", "empty"),
        ("  \n ", "empty"),
        ('{"coordinates": []}', "must be an object with a 'type'"),
        ('{"type": "Polygon", "coordinates": 5}', "lists of"),
        ('{"type": "Polygon", "coordinates": [[["a", "b"], [1, 1], [0, 1]]]}', r"\(lon, lat\) pairs"),
        ('{"type": "Circle", "radius": 3}', "unsupported GeoJSON type 'Circle'"),
        ("/etc/passwd", "not valid GeoJSON.*starts with '\\{'"),
        (b"\xff\xfe{\x00", "not text GeoJSON"),
    ],
)
def test_bad_content_says_what_is_wrong(content, message):
    with pytest.raises(AOIError, match=message):
        AOI.from_geojson(content)


@pytest.mark.parametrize("opening, closing", [("[", "]"), ('{"a":', "}")])
def test_deep_nesting_is_refused_in_words(opening, closing):
    text = opening * 100_000 + closing * 100_000
    with pytest.raises(AOIError, match="nested far too deeply"):
        AOI.from_geojson(text)


def test_deeply_nested_collections_built_in_code_are_refused_in_words():
    obj: dict = SQUARE
    for _ in range(5000):
        obj = {"type": "GeometryCollection", "geometries": [obj]}
    with pytest.raises(AOIError, match="nested too deeply"):
        AOI.from_geojson(obj)


def test_content_over_the_size_limit_is_refused_before_parsing():
    big = b" " * (MAX_GEOJSON_BYTES + 1)  # whitespace: would parse as empty if it were parsed at all
    with pytest.raises(AOIError, match="MB; the limit is 10 MB"):
        AOI.from_geojson(big)
    with pytest.raises(AOIError, match="the limit"):
        AOI.from_geojson(big.decode())


@pytest.mark.parametrize(
    "name",
    ["urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:4326", "urn:ogc:def:crs:EPSG::4326"],
)
def test_a_declared_lonlat_crs_is_accepted(name):
    feature = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": name}},
               "features": [{"type": "Feature", "properties": {}, "geometry": SQUARE}]}  # fmt: skip
    assert AOI.from_geojson(json.dumps(feature)) == AOI.from_geojson(SQUARE)


@pytest.mark.parametrize(
    "crs, message",
    [
        ({"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32616"}}, "'urn:ogc:def:crs:EPSG::32616'"),
        ({"type": "link", "properties": {"href": "http://example.com/crs"}}, "a CRS this reader cannot interpret"),
    ],
)
def test_another_declared_crs_is_refused_not_ignored(crs, message):
    for where in ("top", "geometry"):
        geometry = {**SQUARE, "crs": crs} if where == "geometry" else SQUARE
        obj = {"type": "Feature", "properties": {}, "geometry": geometry}
        if where == "top":
            obj["crs"] = crs
        with pytest.raises(AOIError, match=message) as err:
            AOI.from_geojson(obj)
        assert "reproject" in str(err.value)
