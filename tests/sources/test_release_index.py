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
    (copy,) = (gcs_release.cache_dir / "release" / "index").iterdir()
    week_ago = time.time() - 8 * 86400
    os.utime(copy, (week_ago, week_ago))
    gcs_release.log.reset()
    gcs_release.log.status["aef_index.parquet"] = 403
    assert gcs_release.open().years == (2023, 2024)  # the refresh failed: the copy serves
    assert [p for p in gcs_release.log.paths() if p.endswith("aef_index.parquet")]  # but it was tried
    del gcs_release.log.status["aef_index.parquet"]
    gcs_release.open()
    assert copy.stat().st_mtime > week_ago + 86400  # refreshed
