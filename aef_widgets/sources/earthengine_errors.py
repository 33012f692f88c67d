"""Earth Engine's failures in plain words: what went wrong and what to do, never a class name or a token.

Every call that reaches Earth Engine runs inside ``ee_errors(action)``; its own exceptions, HTTP and auth failures
and dropped connections become an ``EarthEngineError`` whose message says what to do (sign in, wait for the quota,
draw a smaller AOI, ...), with the first line of the original (secrets redacted) and the original as its cause.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import ee
import google.auth.exceptions
import googleapiclient.errors
import httplib2

from ..core.errors import EarthEngineError

_AUTH = "Earth Engine is not signed in: call aef_widgets.ee_auth.ee_init() (see ee_status() for why it failed)"
_MESSAGES: tuple[tuple[str, str], ...] = (
    (
        r"max retries|name resolution|failed to resolve|servernotfound|unable to find the server"
        r"|connection (?:refused|reset|aborted)|network is unreachable",
        "Earth Engine cannot be reached: check the network connection",
    ),
    (
        r"not initialized|please authorize|earthengine authenticate|unauthenticated|invalid authentication"
        r"|invalid_grant|\b401\b|reauthenticat|credentials|refresherror",
        _AUTH,
    ),
    (
        r"resource_exhausted|quota|too many requests|too many concurrent|rate limit|\b429\b",
        "Earth Engine's quota for this project is used up for now (too many requests); wait a minute and retry",
    ),
    (
        r"memory limit|too many pixels|maxpixels|request payload|total request size|too large|exceeds the limit"
        r"|too many (?:input|elements)",
        "the computation is too large for an interactive Earth Engine request; draw a smaller AOI, use fewer "
        "samples, or start an export task",
    ),
    (
        r"timed out|timeout|deadline",
        "Earth Engine took too long to answer; try a smaller AOI, or an export task for large areas",
    ),
    (
        r"no project found|no project",
        "Earth Engine needs a Google Cloud project: pass project= to ee_init, or set EARTHENGINE_PROJECT",
    ),
    (
        r"permission_denied|permission denied|\b403\b|not registered|has not been used in project"
        r"|does not have required permission",
        "Earth Engine refused access: the Cloud project must be registered for Earth Engine and have the Earth "
        "Engine API enabled (pass project= to ee_init, or set EARTHENGINE_PROJECT)",
    ),
    (
        r"did not match any bands|no bands|collection\.first: empty|empty collection|no valid training data"
        r"|training (?:data|set)|image\.select.*not found",
        "Earth Engine has no AEF embeddings there for that year; pick another year or an area with data",
    ),
)
#: What a call to Earth Engine may raise: its own errors, HTTP and auth failures, dropped connections.
NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    ee.EEException,
    googleapiclient.errors.HttpError,
    google.auth.exceptions.GoogleAuthError,
    httplib2.HttpLib2Error,
    OSError,  # sockets, timeouts and requests' errors; the guarded blocks only talk to Earth Engine
)
_SECRETS = re.compile(
    r"ya29\.[\w.\-]+|1//[\w\-]+|-----BEGIN[^-]+-----.*?-----END[^-]+-----|(?i:(?:token|key|secret)=)[^&\s\"']+",
    re.S,
)


def redact(text: str) -> str:
    """Text with anything that looks like an access token, refresh token or private key replaced."""
    return _SECRETS.sub("[redacted]", text)


def translate_ee_error(error: BaseException, action: str) -> EarthEngineError:
    """An ``EarthEngineError`` in plain words for an Earth Engine, HTTP or auth failure while doing ``action``."""
    kind = type(error).__name__
    said = str(error).strip()
    text = f"{kind} {getattr(getattr(error, 'resp', None), 'status', '')} {said}"
    first_line = redact(said.splitlines()[0] if said else kind)
    for pattern, message in _MESSAGES:
        if re.search(pattern, text, re.I):
            return EarthEngineError(f"{message} (while {action}: {first_line})")
    return EarthEngineError(f"Earth Engine failed while {action}: {first_line}")


@contextmanager
def ee_errors(action: str) -> Iterator[None]:
    """Turn Earth Engine, HTTP and auth failures inside the block into an ``EarthEngineError`` (cause kept)."""
    try:
        yield
    except NETWORK_ERRORS as e:
        raise translate_ee_error(e, action) from e
