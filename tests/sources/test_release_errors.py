"""Failures of the release in words: refusals, missing files, a server down, truncated files, stalls, bad indexes."""

from __future__ import annotations

import time

import pyarrow.parquet as pq
import pytest

from aef_widgets.core.aoi import AOI
from aef_widgets.core.errors import SourceError
from aef_widgets.sources.gdal_env import GDAL_OPTIONS
from aef_widgets.sources.release_http import MIRRORS, http_status_message
from tests.release_data import INDEX_COLUMNS

WEST_AOI = AOI.from_bounds(-84.035, 43.99, -84.03, 43.995)  # inside the 16N tile only


@pytest.fixture
def quick_timeouts(monkeypatch):
    """Stalls are noticed in a second, not half a minute (the same settings, shorter)."""
    monkeypatch.setitem(GDAL_OPTIONS, "GDAL_HTTP_LOW_SPEED_TIME", "1")
    monkeypatch.setitem(GDAL_OPTIONS, "GDAL_HTTP_MAX_RETRY", "0")


def _west_tile(release) -> str:
    return next(p for p in (release.annual / "2024" / "16N").iterdir() if p.suffix == ".tiff").name


@pytest.mark.parametrize("cache", [True, False])
def test_a_refusal_says_so_and_names_another_mirror(gcs_release, cache):
    source = gcs_release.open(cache=cache)
    gcs_release.log.status[_west_tile(gcs_release)] = 403
    with pytest.raises(SourceError, match=r"refused access \(HTTP 403\).*mirror"):
        source.read(WEST_AOI, 2024)


def test_refusals_by_the_real_mirrors_name_the_other_one():
    coop = http_status_message(403, f"{MIRRORS['source-coop'].root}/v1/annual/2024/16N/x.tiff")
    assert "mirror='gcs'" in coop and "refuses some clients" in coop
    google = http_status_message(403, f"{MIRRORS['gcs'].root}/v1/annual/2024/16N/x.tiff")
    assert "requester-pays" in google and "mirror='source-coop'" in google


@pytest.mark.parametrize("cache", [True, False])
def test_a_missing_tile_is_a_404_in_words(gcs_release, cache):
    source = gcs_release.open(cache=cache)
    gcs_release.log.status[_west_tile(gcs_release)] = 404
    with pytest.raises(SourceError, match=r"no such file on the server \(HTTP 404\)"):
        source.read(WEST_AOI, 2024)


@pytest.mark.parametrize("cache", [True, False])
def test_a_server_error_says_the_server_failed(gcs_release, cache):
    source = gcs_release.open(cache=cache)
    gcs_release.log.status[_west_tile(gcs_release)] = 503
    with pytest.raises(SourceError, match=r"server failed \(HTTP 503\)"):
        source.read(WEST_AOI, 2024)


@pytest.mark.parametrize("cache", [True, False])
def test_a_server_that_is_down_says_it_cannot_be_reached(release_roots, tmp_path, cache):
    from tests.release_fixtures import Release, _serve

    serving = _serve(release_roots, "gcs", tmp_path)
    release: Release = next(serving)
    source = release.open(cache=cache)  # the index is fetched while the server is up
    serving.close()  # then it goes away
    with pytest.raises(SourceError, match="cannot reach the server"):
        source.read(WEST_AOI, 2024)


@pytest.mark.parametrize("cache", [True, False])
def test_a_truncated_file_says_so(gcs_release, cache):
    name = _west_tile(gcs_release)
    size = (gcs_release.annual / "2024" / "16N" / name).stat().st_size
    gcs_release.log.truncate[name] = size // 3  # the header is whole, the blocks it points to are not there
    source = gcs_release.open(cache=cache)
    with pytest.raises(SourceError, match="truncated"):
        source.read(AOI.from_bounds(-84.035, 43.98, -83.99, 44.02), 2024)


@pytest.mark.parametrize("cache", [True, False])
def test_a_stalled_server_is_a_timeout_not_a_hang(gcs_release, quick_timeouts, cache):
    source = gcs_release.open(cache=cache, stall_seconds=1)
    gcs_release.log.stall.add(_west_tile(gcs_release))
    gcs_release.log.stall_seconds = 20
    start = time.perf_counter()
    with pytest.raises(SourceError, match="stalled"):
        source.read(WEST_AOI, 2024)
    assert time.perf_counter() - start < 10


def test_an_index_without_a_needed_column_names_it(gcs_release, tmp_path):
    table = pq.read_table(gcs_release.annual / "aef_index.parquet")
    broken = tmp_path / "index.parquet"
    pq.write_table(table.drop(["utm_north", "crs"]), broken)
    with pytest.raises(SourceError, match=r"lacks the columns crs, utm_north"):
        gcs_release.open(index=broken)
    assert set(INDEX_COLUMNS) == set(table.column_names)  # the miniature index has the published columns


def test_an_index_the_server_refuses_says_so(gcs_release):
    gcs_release.log.status["aef_index.parquet"] = 403
    with pytest.raises(SourceError, match=r"refused access \(HTTP 403\)"):
        gcs_release.open()


def test_an_unknown_mirror_lists_the_known_ones():
    from aef_widgets.sources import open_source

    with pytest.raises(SourceError, match="source-coop, gcs"):
        open_source("release", mirror="dropbox")
    with pytest.raises(TypeError, match="only for open_source"):
        open_source("some.tif", mirror="gcs")


@pytest.mark.parametrize("cache", [True, False])
def test_a_requester_pays_400_says_so_and_names_the_free_mirror(gcs_release, cache):
    """Google answers an anonymous read of a requester-pays bucket with HTTP 400 and a UserProjectMissing body."""
    from tests.http_server import USER_PROJECT_MISSING

    source = gcs_release.open(cache=cache)
    name = _west_tile(gcs_release)
    gcs_release.log.configure(status={name: 400}, bodies={name: USER_PROJECT_MISSING.decode()})
    with pytest.raises(SourceError, match=r"requester-pays \(HTTP 400, UserProjectMissing\).*mirror='source-coop'"):
        source.read(WEST_AOI, 2024)


def test_a_400_from_google_is_requester_pays_and_other_400s_are_not():
    google = http_status_message(400, f"{MIRRORS['gcs'].root}/v1/annual/2024/16N/x.tiff")
    assert "requester-pays" in google and "mirror='source-coop'" in google
    other = http_status_message(400, "https://example.org/v1/annual/2024/16N/x.tiff", "<Error>Bad</Error>")
    assert "requester-pays" not in other and "HTTP 400" in other
