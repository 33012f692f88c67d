"""The app opens on the release from the environment, as a Voila deployment configures it."""

from __future__ import annotations

from aef_widgets.apps import app_source
from aef_widgets.sources.release import ReleaseSource


def test_the_environment_points_the_app_at_a_mirror(gcs_release, monkeypatch):
    monkeypatch.setenv("AEF_WIDGETS_SOURCE", "release")
    monkeypatch.setenv("AEF_WIDGETS_RELEASE_URL", gcs_release.url)
    monkeypatch.setenv("AEF_WIDGETS_CACHE", str(gcs_release.cache_dir))
    source, message = app_source()
    assert isinstance(source, ReleaseSource) and message == ""
    assert source.index.annual_root == f"{gcs_release.url}/v1/annual" and source.years == (2023, 2024)


def test_an_index_elsewhere_comes_from_its_variable(gcs_release, monkeypatch, tmp_path):
    monkeypatch.setenv("AEF_WIDGETS_RELEASE_URL", gcs_release.url)
    monkeypatch.setenv("AEF_WIDGETS_RELEASE_INDEX", str(tmp_path / "missing.parquet"))
    source, message = app_source("release")
    assert not isinstance(source, ReleaseSource)  # the app falls back to the sample and says why
    assert "no index file at" in message and "missing.parquet" in message
