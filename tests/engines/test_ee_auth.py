"""``ee_init`` finds credentials without prompting, says why when it cannot, and never shows a secret.

``ee.Initialize`` (the network boundary) and ``ee.ServiceAccountCredentials`` (which needs a real private key) are
stubbed; HOME is a temporary folder so the developer's own credentials are never seen.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ee
import pytest

from aef_widgets import ee_auth
from aef_widgets.core.errors import EarthEngineError

REFRESH = "1//0secret-refresh-token"
ENV_VARS = (
    "EE_SERVICE_ACCOUNT_KEY", "GOOGLE_APPLICATION_CREDENTIALS", "EARTHENGINE_TOKEN", "EARTHENGINE_PROJECT",
    "GOOGLE_CLOUD_PROJECT",
)  # fmt: skip
KEY = {
    "type": "service_account",
    "project_id": "key-project",
    "client_email": "aef@key-project.iam.gserviceaccount.com",
    "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n",
}


class _Refuse(io.StringIO):
    def read(self, *args: Any) -> str:
        raise AssertionError("ee_init read stdin")

    readline = read


@pytest.fixture
def calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list]]:
    """A clean environment, a prompt that fails the test, and recorders for Initialize and service accounts."""
    ee.Reset()
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr("sys.stdin", _Refuse())
    monkeypatch.setattr(ee, "Authenticate", lambda *a, **k: pytest.fail("ee_init called ee.Authenticate"))
    monkeypatch.setattr(ee_auth, "_status", "not set up")
    record: dict[str, list] = {"initialize": [], "service_account": []}

    def initialize(credentials: Any = None, **kwargs: Any) -> None:
        record["initialize"].append({"credentials": credentials, **kwargs})

    def service_account(email: str | None = None, key_file: str | None = None, key_data: str | None = None) -> Any:
        record["service_account"].append({"email": email, "key_file": key_file, "key_data": key_data})
        return "service-account-credentials"

    monkeypatch.setattr(ee, "Initialize", initialize)
    monkeypatch.setattr(ee, "ServiceAccountCredentials", service_account)
    yield record
    ee.Reset()


def test_without_credentials_it_says_so_and_never_prompts(calls: dict) -> None:
    assert ee_auth.ee_init() is False
    assert "no credentials were found" in ee_auth.ee_status()
    assert "earthengine authenticate" in ee_auth.ee_status()
    assert calls["initialize"] == []
    assert ee_auth.ee_available() is False
    with pytest.raises(EarthEngineError, match="no credentials were found"):
        ee_auth.ee_init(strict=True)


def test_a_service_account_key_in_the_environment(calls: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    text = json.dumps(KEY)
    monkeypatch.setenv("EE_SERVICE_ACCOUNT_KEY", text)
    monkeypatch.setenv("EARTHENGINE_PROJECT", "env-project")
    assert ee_auth.ee_init() is True
    assert calls["service_account"] == [{"email": KEY["client_email"], "key_file": None, "key_data": text}]
    assert calls["initialize"] == [{"credentials": "service-account-credentials", "project": "env-project"}]
    assert KEY["client_email"] in ee_auth.ee_status() and "env-project" in ee_auth.ee_status()
    assert "PRIVATE KEY" not in ee_auth.ee_status()


def test_the_argument_wins_over_the_environment_and_the_key_s_project_comes_last(calls, monkeypatch) -> None:
    monkeypatch.setenv("EE_SERVICE_ACCOUNT_KEY", json.dumps(KEY))
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "cloud-project")
    ee_auth.ee_init("arg-project")
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT")
    ee_auth.ee_init()
    assert [c["project"] for c in calls["initialize"]] == ["arg-project", "key-project"]


def test_a_key_file_named_by_google_application_credentials(calls, monkeypatch, tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    path.write_text(json.dumps(KEY))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    assert ee_auth.ee_init() is True
    assert calls["service_account"] == [{"email": KEY["client_email"], "key_file": str(path), "key_data": None}]


def test_a_token_in_the_environment_becomes_oauth_credentials(calls, monkeypatch) -> None:
    token = {"refresh_token": REFRESH, "client_id": "cid", "client_secret": "csecret", "project": "token-project"}
    monkeypatch.setenv("EARTHENGINE_TOKEN", json.dumps(token))
    assert ee_auth.ee_init() is True
    (call,) = calls["initialize"]
    assert call["project"] == "token-project"
    credentials = call["credentials"]
    assert (credentials.refresh_token, credentials.client_id, credentials.quota_project_id) == (
        REFRESH, "cid", "token-project",
    )  # fmt: skip
    assert REFRESH not in ee_auth.ee_status() and "csecret" not in ee_auth.ee_status()


def test_stored_credentials_are_used_last(calls, tmp_path: Path) -> None:
    stored = tmp_path / ".config" / "earthengine" / "credentials"
    stored.parent.mkdir(parents=True)
    stored.write_text(json.dumps({"refresh_token": REFRESH}))
    assert ee_auth.ee_init() is False  # no project anywhere
    assert "Google Cloud project" in ee_auth.ee_status()
    assert ee_auth.ee_init(project="p") is True
    assert calls["initialize"][-1]["credentials"].refresh_token == REFRESH


def test_broken_credentials_are_explained_without_showing_them(calls, monkeypatch) -> None:
    monkeypatch.setenv("EARTHENGINE_TOKEN", "{not json " + REFRESH)
    assert ee_auth.ee_init("p") is False
    assert "EARTHENGINE_TOKEN is not valid JSON" in ee_auth.ee_status()
    with pytest.raises(EarthEngineError) as caught:
        ee_auth.ee_init("p", strict=True)
    assert REFRESH not in str(caught.value) and caught.value.__cause__ is None
    monkeypatch.setenv("EARTHENGINE_TOKEN", json.dumps({"client_id": "x"}))
    assert ee_auth.ee_init("p") is False and "no refresh_token" in ee_auth.ee_status()
    monkeypatch.setenv("EE_SERVICE_ACCOUNT_KEY", json.dumps({"type": "authorized_user"}))
    assert ee_auth.ee_init("p") is False and "not a service-account key" in ee_auth.ee_status()


def test_a_refused_initialisation_is_translated_and_redacted(calls, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EARTHENGINE_TOKEN", json.dumps({"refresh_token": REFRESH, "project": "p"}))

    def refuse(credentials: Any = None, **kwargs: Any) -> None:
        raise ee.EEException(f"invalid_grant: Token has been expired or revoked: {REFRESH}")

    monkeypatch.setattr(ee, "Initialize", refuse)
    assert ee_auth.ee_init() is False
    assert "not signed in" in ee_auth.ee_status()
    assert REFRESH not in ee_auth.ee_status()


def test_an_initialised_library_is_left_alone(calls, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ee.data, "is_initialized", lambda: True)
    assert ee_auth.ee_available() is True
    assert ee_auth.ee_init() is True
    assert calls["initialize"] == []
    assert "already initialised" in ee_auth.ee_status()
