"""The release's index: validated columns, years from the data, tile look-up by lon/lat bounds."""

from __future__ import annotations

import os
import time

import numpy as np
import pyarrow as pa
import pytest

from aef_widgets.core.errors import SourceError
from aef_widgets.sources.release_index import REQUIRED_COLUMNS, ReleaseIndex, resolve

ROOT = "https://mirror.example/v1/annual"


def _table(rows: list[dict]) -> pa.Table:
    return pa.table({c: [r[c] for r in rows] for c in rows[0]})


def _row(year: int, west: float, south: float, east: float, north: float, name: str) -> dict:
    return {
        "fid": 0, "path": f"gs://bucket/satellite_embedding/v1/annual/{year}/10N/{name}.tiff", "year": year,
        "utm_zone": "10N", "crs": "EPSG:32610", "wgs84_west": west, "wgs84_south": south, "wgs84_east": east,
        "wgs84_north": north, "utm_west": 0.0, "utm_south": 0.0, "utm_east": 1.0, "utm_north": 1.0,
    }  # fmt: skip


def test_lookup_returns_exactly_the_overlapping_tiles_of_the_year():
    rng = np.random.default_rng(3)
    rows = []
    for i in range(2000):
        west, south = rng.uniform(-180, 179), rng.uniform(-80, 79)
        rows.append(_row(2017 + i % 3, west, south, west + 0.7, south + 0.7, f"t{i}"))
    index = ReleaseIndex(_table(rows), ROOT)
    assert index.years == (2017, 2018, 2019) and len(index) == 2000
    query = (10.0, 20.0, 30.0, 35.0)
    for year in index.years:
        expected = sorted(
            r["path"].rsplit("/", 1)[1]
            for r in rows
            if r["year"] == year and r["wgs84_west"] < 30 and r["wgs84_east"] > 10
            and r["wgs84_south"] < 35 and r["wgs84_north"] > 20
        )  # fmt: skip
        found = sorted(t.url.rsplit("/", 1)[1] for t in index.lookup(query, year))
        assert found == expected and found
    assert index.lookup(query, 2030) == []


def test_a_tile_across_the_antimeridian_is_found_from_both_sides():
    index = ReleaseIndex(_table([_row(2024, 179.5, 0.0, -179.5, 1.0, "across")]), ROOT)
    assert len(index.lookup((179.8, 0.2, 179.9, 0.3), 2024)) == 1
    assert len(index.lookup((-179.9, 0.2, -179.8, 0.3), 2024)) == 1
    assert index.lookup((0.0, 0.2, 1.0, 0.3), 2024) == []


def test_paths_resolve_onto_the_chosen_mirror():
    assert resolve("gs://b/satellite_embedding/v1/annual/2024/10N/a.tiff", ROOT) == f"{ROOT}/2024/10N/a.tiff"
    assert resolve("s3://x/tge-labs/aef/v1/annual/2024/10N/a.tiff", ROOT) == f"{ROOT}/2024/10N/a.tiff"
    assert resolve("2024/10N/a.tiff", ROOT) == f"{ROOT}/2024/10N/a.tiff"


@pytest.mark.parametrize("column", REQUIRED_COLUMNS)
def test_each_needed_column_is_named_when_missing(column):
    table = _table([_row(2024, 0, 0, 1, 1, "a")]).drop([column])
    with pytest.raises(SourceError, match=rf"lacks the column {column};"):
        ReleaseIndex(table, ROOT)


def test_an_empty_index_says_so():
    table = _table([_row(2024, 0, 0, 1, 1, "a")]).slice(0, 0)
    with pytest.raises(SourceError, match="lists no files"):
        ReleaseIndex(table, ROOT)


def test_the_index_is_fetched_once_and_kept(gcs_release):
    gcs_release.open()
    gcs_release.open()
    fetched = [p for p in gcs_release.log.paths() if p.endswith("aef_index.parquet")]
    assert len(fetched) == 1


def test_an_old_copy_of_the_index_is_refreshed_and_kept_when_the_mirror_refuses(gcs_release):
    gcs_release.open()
    (copy,) = (gcs_release.cache_dir / "release" / "index").glob("*.parquet")  # (and a note: no STAC index)
    week_ago = time.time() - 8 * 86400
    os.utime(copy, (week_ago, week_ago))
    gcs_release.log.reset()
    gcs_release.log.status["aef_index.parquet"] = 403
    assert gcs_release.open().years == (2023, 2024)  # the refresh failed: the copy serves
    assert [p for p in gcs_release.log.paths() if p.endswith("aef_index.parquet")]  # but it was tried
    del gcs_release.log.status["aef_index.parquet"]
    gcs_release.open()
    assert copy.stat().st_mtime > week_ago + 86400  # refreshed


def test_a_binary_path_column_gives_the_same_urls():
    """Some Parquet readers see the published ``path`` as binary; its URLs must not end in a quote."""
    rows = [_row(2024, 1.0, 2.0, 3.0, 4.0, "a"), _row(2024, 5.0, 2.0, 6.0, 4.0, "b")]
    plain = ReleaseIndex(_table(rows), ROOT)
    table = _table(rows)
    table = table.set_column(1, "path", pa.array([r["path"].encode() for r in rows], pa.binary()))
    binary = ReleaseIndex(table, ROOT)
    urls = [t.url for t in binary.lookup((0, 0, 10, 10), 2024)]
    assert (
        urls
        == [t.url for t in plain.lookup((0, 0, 10, 10), 2024)]
        == [f"{ROOT}/2024/10N/a.tiff", f"{ROOT}/2024/10N/b.tiff"]
    )
    assert resolve("b'gs://x/satellite_embedding/v1/annual/2024/10N/c.tiff'", ROOT) == f"{ROOT}/2024/10N/c.tiff"


def test_a_stac_index_becomes_the_published_columns(tmp_path):
    """bbox as a struct or a list, datetime as the year, assets.data.href, proj:epsg or proj:code."""
    import datetime

    import pyarrow.parquet as pq

    from aef_widgets.sources.release_index import read_index

    href = "s3://us-west-2.opendata.source.coop/tge-labs/aef/v1/annual/{}/17N/t{}.tiff"
    for bbox, crs_column in [
        (pa.array([{"xmin": -81.0, "ymin": 40.0, "xmax": -80.0, "ymax": 41.0}] * 2), ("proj:epsg", [32617, 32617])),
        (pa.array([[-81.0, 40.0, -80.0, 41.0]] * 2), ("proj:code", ["EPSG:32617"] * 2)),
    ]:
        table = pa.table({
            "bbox": bbox,
            "datetime": pa.array([datetime.datetime(y, 1, 1, tzinfo=datetime.timezone.utc) for y in (2018, 2024)]),
            "assets": pa.array([{"data": {"href": href.format(y, i)}} for i, y in enumerate((2018, 2024))]),
            crs_column[0]: crs_column[1],
        })  # fmt: skip
        pq.write_table(table, tmp_path / "stac.parquet")
        index = read_index(tmp_path / "stac.parquet", ROOT, "the STAC index")
        assert index.years == (2018, 2024)
        (tile,) = index.lookup((-80.5, 40.5, -80.4, 40.6), 2024)
        assert tile.url == f"{ROOT}/2024/17N/t1.tiff" and tile.crs == "EPSG:32617"
        assert tile.lonlat_bounds == (-81.0, 40.0, -80.0, 41.0) and np.isnan(tile.utm_bounds).all()
