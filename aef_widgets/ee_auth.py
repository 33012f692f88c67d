"""Connecting to Earth Engine without ever prompting, so apps can fall back to local data when it is not set up.

Credentials are looked for in this order, and the first one found is used:

1. a service-account key: JSON text in ``EE_SERVICE_ACCOUNT_KEY``, or a key file named by
   ``GOOGLE_APPLICATION_CREDENTIALS``;
2. an Earth Engine token in ``EARTHENGINE_TOKEN``: the JSON contents of ``~/.config/earthengine/credentials``,
   as geemap's CI uses it;
3. the credentials ``earthengine authenticate`` stored in ``~/.config/earthengine/credentials``.

The Cloud project comes from the ``project`` argument, ``EARTHENGINE_PROJECT``, ``GOOGLE_CLOUD_PROJECT``, or the
credentials themselves. ``ee_init`` never calls ``ee.Authenticate`` and never reads stdin; when it cannot
connect it returns False and ``ee_status()`` says why in words. No message ever contains a credential.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from typing import Any

import ee
import google.auth
import google.auth.exceptions
import google.oauth2.credentials

from .core.errors import EarthEngineError
from .core.execution import start_thread
from .sources.earthengine import NETWORK_ERRORS, ee_errors

SERVICE_ACCOUNT_KEY_VAR = "EE_SERVICE_ACCOUNT_KEY"
KEY_FILE_VAR = "GOOGLE_APPLICATION_CREDENTIALS"
TOKEN_VAR = "EARTHENGINE_TOKEN"
PROJECT_VARS = ("EARTHENGINE_PROJECT", "GOOGLE_CLOUD_PROJECT")
NO_CREDENTIALS = (
    "Earth Engine is not set up: no credentials were found. Set EE_SERVICE_ACCOUNT_KEY (a service-account key "
    "as JSON) or EARTHENGINE_TOKEN, or run `earthengine authenticate` once in a terminal; then call ee_init()."
)

#: Longest ``ee_init`` waits for Earth Engine and Google's sign-in to answer. Offline, a credentials refresh
#: otherwise retries for 35-42 s before failing; a visitor should hear sooner that Earth Engine is unreachable.
INIT_TIMEOUT_S = 15.0

_status = "Earth Engine has not been set up yet: call ee_init()."


@dataclass(frozen=True)
class Credentials:
    """Credentials found without any network request, and words for where they came from."""

    credentials: Any
    method: str
    project: str | None = None
    service_account: bool = False


def ee_available() -> bool:
    """True when Earth Engine is initialised in this process (by ``ee_init`` or ``ee.Initialize``); no request."""
    return bool(ee.data.is_initialized())


def ee_status() -> str:
    """Why Earth Engine is or is not available, in words (never containing a credential)."""
    return _status


def ee_init(
    project: str | None = None, *, strict: bool = False, force: bool = False, timeout: float = INIT_TIMEOUT_S
) -> bool:
    """Initialise Earth Engine from the environment or stored credentials, never prompting.

    Returns True when Earth Engine is ready. Otherwise returns False and ``ee_status()`` tells why, or with
    ``strict=True`` raises an ``EarthEngineError`` with that reason. ``force`` initialises again even when Earth
    Engine already is. Waits at most ``timeout`` seconds for Earth Engine to answer.
    """
    global _status
    if ee_available() and not force:
        _status = "Earth Engine is ready (it was already initialised)."
        return True
    try:
        found = find_credentials()
        if found is None:
            raise EarthEngineError(NO_CREDENTIALS)
        project = project or _env_project() or found.project
        if not project and not found.service_account:
            raise EarthEngineError(
                f"Earth Engine needs a Google Cloud project to work in (signed in with {found.method}): pass "
                "ee_init(project='my-project') or set EARTHENGINE_PROJECT"
            )
        _initialize(found, project, timeout)
    except EarthEngineError as e:
        _status = str(e)
        if strict:
            raise
        return False
    _status = f"Earth Engine is ready (signed in with {found.method}, project {project or 'of the service account'})."
    return True


def _initialize(found: Credentials, project: str | None, timeout: float) -> None:
    """``ee.Initialize`` in a worker thread, waited for at most ``timeout`` seconds; failures in words.

    A sign-in still hanging when the time is up is abandoned: should it finish later, Earth Engine is reset, so
    the library is never left initialised behind a status that says it is not.
    """
    outcome: dict[str, BaseException] = {}
    abandoned = threading.Event()

    def work() -> None:
        try:
            ee.Initialize(credentials=found.credentials, project=project)
        except BaseException as e:  # handed to the caller's thread, which translates it
            outcome["error"] = e
        else:
            if abandoned.is_set():
                ee.Reset()

    worker = start_thread(work, "aef-ee-init")
    worker.join(timeout)
    if worker.is_alive():
        abandoned.set()
        raise EarthEngineError(
            f"could not reach Earth Engine within {timeout:g} s (signed in with {found.method}): check the network "
            "connection, proxy or firewall, then call ee_init() again"
        )
    error = outcome.get("error")
    if error is None:
        return
    ee.Reset()  # a failure part way (after ee.data.initialize) would otherwise leave ee_available() True
    if isinstance(error, google.auth.exceptions.RefreshError):
        raise EarthEngineError(
            f"Google refused the credentials ({found.method}): they are invalid, expired or revoked; run "
            "`earthengine authenticate` again or create a new service-account key"
        ) from None
    if isinstance(error, (google.auth.exceptions.TransportError, OSError)):  # sockets, DNS, requests, urllib3
        raise EarthEngineError(
            f"could not reach Earth Engine (signed in with {found.method}): check the network connection, proxy "
            "or firewall, then call ee_init() again"
        ) from None
    if not isinstance(error, NETWORK_ERRORS):
        raise error
    with ee_errors(f"initialising Earth Engine with {found.method}"):
        raise error


def find_credentials() -> Credentials | None:
    """The first credentials found in the environment or on disk, or None; raises when one is unusable."""
    key_text = os.environ.get(SERVICE_ACCOUNT_KEY_VAR, "").strip()
    if key_text:
        return _service_account_from_text(key_text)
    key_file = os.environ.get(KEY_FILE_VAR, "").strip()
    if key_file:
        return _from_key_file(key_file)
    token = os.environ.get(TOKEN_VAR, "").strip()
    if token:
        return _from_token(_load_json(token, f"{TOKEN_VAR} is not valid JSON"), f"the token in {TOKEN_VAR}")
    stored = ee.oauth.get_credentials_path()
    if not os.path.isfile(stored):
        return None
    try:
        with open(stored) as f:
            text = f.read()
    except OSError as e:
        raise EarthEngineError(f"{stored} cannot be read ({e.strerror})") from None
    return _from_token(_load_json(text, f"{stored} is not valid JSON"), f"the credentials in {stored}")


def _env_project() -> str | None:
    return next((os.environ[v].strip() for v in PROJECT_VARS if os.environ.get(v, "").strip()), None)


def _load_json(text: str, error: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        raise EarthEngineError(error) from None  # the text may be a secret: not even in the traceback
    if not isinstance(value, dict):
        raise EarthEngineError(error)
    return value


def _service_account_from_text(text: str) -> Credentials:
    info = _load_json(text, f"{SERVICE_ACCOUNT_KEY_VAR} is not a service-account key in JSON")
    email = info.get("client_email")
    if info.get("type") != "service_account" or not email or not info.get("private_key"):
        raise EarthEngineError(f"{SERVICE_ACCOUNT_KEY_VAR} is not a service-account key (client_email, private_key)")
    method = f"the service account {email} from {SERVICE_ACCOUNT_KEY_VAR}"
    try:
        credentials = ee.ServiceAccountCredentials(email, key_data=text)
    except ValueError:
        raise EarthEngineError(f"the private key in {SERVICE_ACCOUNT_KEY_VAR} cannot be read") from None
    return Credentials(credentials, method, info.get("project_id"), service_account=True)


def _from_key_file(path: str) -> Credentials:
    try:
        with open(path) as f:
            info = _load_json(f.read(), f"{KEY_FILE_VAR} names {path}, which is not a JSON key file")
    except OSError as e:
        raise EarthEngineError(f"{KEY_FILE_VAR} names {path}, which cannot be read ({e.strerror})") from None
    try:
        if info.get("type") == "service_account":
            email = info.get("client_email")
            credentials = ee.ServiceAccountCredentials(email, key_file=path)
            method = f"the service account {email} from {KEY_FILE_VAR}"
            return Credentials(credentials, method, info.get("project_id"), service_account=True)
        credentials, project = google.auth.load_credentials_from_file(path, scopes=ee.oauth.SCOPES)
    except (ValueError, google.auth.exceptions.GoogleAuthError):
        raise EarthEngineError(f"{KEY_FILE_VAR} names {path}, which holds no usable credentials") from None
    return Credentials(credentials, f"the credentials file named by {KEY_FILE_VAR}", project)


def _from_token(stored: dict, method: str) -> Credentials:
    """OAuth credentials from the JSON ``earthengine authenticate`` writes (refresh token, client, project)."""
    if not stored.get("refresh_token"):
        raise EarthEngineError(f"{method} hold no refresh_token; run `earthengine authenticate` again")
    credentials = google.oauth2.credentials.Credentials(
        None,
        token_uri=ee.oauth.TOKEN_URI,
        refresh_token=stored["refresh_token"],
        client_id=stored.get("client_id", ee.oauth.CLIENT_ID),
        client_secret=stored.get("client_secret", ee.oauth.CLIENT_SECRET),
        scopes=stored.get("scopes", ee.oauth.SCOPES),
        quota_project_id=stored.get("project"),
    )
    return Credentials(credentials, method, stored.get("project"))
