"""Real places on the public release, offered on the sample when the release answers: a miniature release on
loopback for the reachable case, a closed loopback port and a stalling server for the offline ones. No test here
reaches the internet."""

from __future__ import annotations

import socket

import pytest

from aef_widgets.core.place import parse_place
from aef_widgets.explorer import Explorer
from aef_widgets.sources.release_http import annual_root
from aef_widgets.sources.sample import sample_source
from aef_widgets.widgets import JobRunner
from aef_widgets.widgets.real_places import PLACES, RealPlaces, reachable, release_index_url

#: A place inside the miniature release (tests/release_data.py: tiles around 84° W, 44° N).
MINI_PLACES = (("Mini release, Michigan", "-83.99, 44.0", "the loopback release's tiles"),)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1/annual/aef_index.parquet"  # nothing listens there once closed


def places_on(explorer: Explorer, **kwargs) -> RealPlaces:
    places = RealPlaces(explorer.state, go_to=explorer.place.go_to, map=explorer.map, runner=explorer.runner,
                        **kwargs)  # fmt: skip
    assert places.checked.wait(10), "the reachability check never ended"
    return places


def test_when_the_release_answers_one_click_shows_a_real_place(gcs_release):
    explorer = Explorer(sample_source(), runner=JobRunner.inline())
    assert "Synthetic sample" in explorer.header.value
    index = f"{annual_root(gcs_release.url)}/aef_index.parquet"
    places = places_on(explorer, index_url=index, opener=gcs_release.open, places=MINI_PLACES)
    assert ("/satellite_embedding/v1/annual/aef_index.parquet", "HEAD") in [
        (p, r) for p, r, _ in gcs_release.log.requests
    ]
    assert not places.buttons[0].disabled and places.status.value == ""
    places.buttons[0].click()
    source = explorer.state.source
    assert not source.synthetic and source.years == (2023, 2024)
    lat, lon = explorer.map.center
    assert (lon, lat) == pytest.approx((-83.99, 44.0))
    assert "Synthetic sample" not in explorer.header.value  # the badge leaves with the sample
    assert places.value == "Mini release, Michigan" and "real embeddings" in places.status.value
    assert any(x.name == "RGB composite" for x in explorer.map.layers)


def test_offline_the_app_stays_on_the_sample_and_says_why():
    explorer = Explorer(sample_source(), runner=JobRunner.inline())
    opened = []
    places = places_on(explorer, index_url=closed_port_url(), opener=lambda: opened.append(1))
    assert all(b.disabled for b in places.buttons)
    assert "Offline" in places.status.value and "could not be reached" in places.status.value
    assert "synthetic sample" in places.status.value
    assert explorer.state.source.synthetic and opened == []


def test_a_mirror_that_does_not_answer_in_time_is_offline_for_the_app(gcs_release):
    gcs_release.log.stall.add("aef_index.parquet")
    gcs_release.log.stall_seconds = 5
    why = reachable(f"{annual_root(gcs_release.url)}/aef_index.parquet", timeout=0.5)
    assert why == "the release mirror did not answer in time"
    gcs_release.log.stall.clear()
    gcs_release.log.status["aef_index.parquet"] = 403
    assert (
        reachable(f"{annual_root(gcs_release.url)}/aef_index.parquet", timeout=2) == "the release mirror answered 403"
    )


def test_the_check_asks_where_the_release_would_be_read(monkeypatch):
    monkeypatch.delenv("AEF_WIDGETS_RELEASE_INDEX", raising=False)
    monkeypatch.setenv("AEF_WIDGETS_RELEASE_URL", "http://127.0.0.1:1/mirror")
    assert release_index_url() == "http://127.0.0.1:1/mirror/v1/annual/aef_index.parquet"
    monkeypatch.delenv("AEF_WIDGETS_RELEASE_URL")
    assert release_index_url() == "https://data.source.coop/tge-labs/aef/v1/annual/aef_index.parquet"


def test_the_named_places_parse_as_points_and_say_what_is_there():
    for name, lonlat, what in PLACES:
        place = parse_place(lonlat)
        assert place.is_point and name and what
