"""The mirrors of the public AEF release, our HTTP client settings, and failures put in words.

Two anonymous HTTPS mirrors hold the same int8 COGs, both stored bottom-up (positive y pixel size): Google Cloud
Storage and Source Cooperative (a ``.vrt`` beside each file that flips it; its host is reported to refuse some
default client User-Agents). Google answers an anonymous read of a requester-pays bucket with HTTP 400
(UserProjectMissing), not 403. Every request, by GDAL or by us, carries our own User-Agent and gives up on a
stalled server.
"""

from __future__ import annotations

import http.client
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from ..core.errors import SourceError

#: Sent with every request, so hosts see who asks (and do not refuse a library's default agent).
USER_AGENT = "aef-widgets/0.1 (+https://github.com/aef-widgets/aef-widgets)"
#: A server that sends nothing for this many seconds is given up on (a stall is a timeout, not a hang).
STALL_SECONDS = 30
CONNECT_SECONDS = 10


@dataclass(frozen=True)
class Mirror:
    """A host of the release: the folder holding ``v1/annual`` and how to name it to a user."""

    key: str
    title: str
    root: str
    note_403: str


MIRRORS = {
    "source-coop": Mirror(
        "source-coop",
        "Source Cooperative",
        "https://data.source.coop/tge-labs/aef",
        "Source Cooperative refuses some clients; if it keeps refusing, use the Google mirror: "
        "open_source('release', mirror='gcs')",
    ),
    "gcs": Mirror(
        "gcs",
        "Google Cloud Storage",
        "https://storage.googleapis.com/alphaearth_foundations/satellite_embedding",
        "the Google bucket has at times been requester-pays (it then needs a billed Google Cloud project); "
        "the Source Cooperative mirror is free: open_source('release', mirror='source-coop')",
    ),
}
DEFAULT_MIRROR = "source-coop"


def annual_root(base: str) -> str:
    """The ``.../v1/annual`` folder of a mirror given as that folder, its parent, or the Google bucket's root."""
    base = base.rstrip("/")
    if base.endswith("/v1/annual"):
        return base
    if base.endswith("/alphaearth_foundations"):
        return f"{base}/satellite_embedding/v1/annual"
    return f"{base}/v1/annual"


def mirror_of(url: str) -> Mirror | None:
    """The known mirror a URL points into, if any."""
    for mirror in MIRRORS.values():
        host = mirror.root.split("/")[2]
        if f"//{host}/" in url:
            return mirror
    return None


def http_status_message(status: int, url: str, body: str = "") -> str:
    """What an HTTP error status from a mirror (and the body it came with) means for the user, naming the other
    mirror on a refusal."""
    mirror = mirror_of(url)
    if status == 400 and (mirror is MIRRORS["gcs"] or "UserProjectMissing" in body or "requester pays" in body):
        # Google answers an anonymous read of a requester-pays bucket with 400 UserProjectMissing, not 403
        return (
            f"the Google bucket is requester-pays (HTTP 400, UserProjectMissing): it refuses anonymous reads of {url} "
            "(it needs a billed Google Cloud project); the Source Cooperative mirror is free: "
            "open_source('release', mirror='source-coop')"
        )
    if status in (401, 403):
        note = mirror.note_403 if mirror else "check the URL, or try a mirror: mirror='gcs' or mirror='source-coop'"
        return f"the server refused access (HTTP {status}) to {url}: {note}"
    if status == 404:
        return f"no such file on the server (HTTP 404): {url}; the index may be out of date or the URL wrong"
    if status == 416:
        return f"{url} ends before the data its header points to: the file on the server is truncated"
    if status >= 500:
        return f"the server failed (HTTP {status}) for {url}; it may be down, try again later or another mirror"
    return f"the server answered HTTP {status} for {url}"


def explain_gdal_error(url: str, message: str) -> str:
    """A GDAL/rasterio failure while reading ``url`` over HTTP, in words."""
    found = re.search(r"(?:HTTP (?:response |error )?code|response_code)\s*[=:]?\s*(\d{3})", message)
    if found and int(found.group(1)) >= 400:
        status = int(found.group(1))
        return http_status_message(status, url, error_body(url) if status == 400 else "")
    low = message.lower()
    if "timed out" in low or "timeout" in low or "too slow" in low or "operation too slow" in low:
        return f"the server stalled: no data for {STALL_SECONDS} s while reading {url}; try again later"
    if "connect" in low or "resolve" in low:
        return f"cannot reach the server for {url} (is it down, or are you offline?)"
    if any(word in low for word in ("tiffread", "read error", "read failed", "response_code=206", "truncat")):
        return f"{url} could not be read to the end: the file on the server looks truncated or damaged ({message})"
    return f"cannot read {url}: {message}"


def error_body(url: str) -> str:
    """The body a server sends with its refusal of ``url`` (GDAL keeps only the status), "" if none."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Range": "bytes=0-0"})
    try:
        urllib.request.urlopen(request, timeout=CONNECT_SECONDS).close()
    except urllib.error.HTTPError as e:
        return e.read(4000).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError, http.client.HTTPException):
        pass
    return ""


def explain_url_error(url: str, error: Exception) -> str:
    """A urllib failure in words."""
    if isinstance(error, urllib.error.HTTPError):
        body = error.read(4000).decode("utf-8", "replace") if error.code == 400 else ""
        return http_status_message(error.code, url, body)
    reason = getattr(error, "reason", error)
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return f"the server stalled: no data for {STALL_SECONDS} s while fetching {url}; try again later"
    if isinstance(error, (urllib.error.URLError, ConnectionError)):
        return f"cannot reach the server for {url} (is it down, or are you offline?): {reason}"
    return f"cannot fetch {url}: {error}"


def download(
    url: str,
    timeout: float = STALL_SECONDS,
    progress: Callable[[int, int | None], None] | None = None,
) -> bytes:
    """The whole body of ``url`` with our User-Agent; ``progress(done, total)`` as it arrives."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            total = response.headers.get("Content-Length")
            total = int(total) if total else None
            parts, done = [], 0
            while chunk := response.read(1 << 20):
                parts.append(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
    except (urllib.error.URLError, OSError) as e:
        raise SourceError(explain_url_error(url, e)) from e
    except http.client.HTTPException as e:  # the body ended early
        raise SourceError(f"{url} arrived truncated: {e}") from e
    if total is not None and done < total:
        raise SourceError(f"{url} arrived truncated: {done} of {total} bytes")
    return b"".join(parts)
