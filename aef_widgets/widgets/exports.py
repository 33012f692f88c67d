"""Getting results to the user: a download link in the page, and a long export task watched to the end."""

from __future__ import annotations

import base64
import html
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from ..core.errors import UsageError

#: Files up to this size also get a download link in the panel (a data URL the browser saves).
MAX_LINK_BYTES = 50 * 2**20
#: The media type each saved file's link declares (IANA names; RFC 7946 for GeoJSON), so the browser and the
#: operating system treat a saved table as a table, not an image.
MEDIA_TYPES = {
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".geojson": "application/geo+json",
    ".json": "application/json",
    ".parquet": "application/vnd.apache.parquet",
    ".csv": "text/csv",
    ".png": "image/png",
}


class TaskStatus(Protocol):
    state: str
    progress: float
    message: str

    @property
    def done(self) -> bool: ...


class Task(Protocol):
    def status(self) -> TaskStatus: ...


def saved_file_html(path: Path) -> str:
    """What was saved, with a link that downloads it from the page (works in Voila, Binder, Colab)."""
    data = path.read_bytes()
    name = html.escape(path.name)
    link = ""
    if len(data) <= MAX_LINK_BYTES:
        media = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
        url = f"data:{media};base64," + base64.b64encode(data).decode("ascii")
        style = "color:#0b57d0;text-decoration:underline;font-weight:600"
        link = f' <a class="aef-download" style="{style}" download="{name}" href="{url}">Download {name}</a>'
    return f"Saved {name} ({len(data) / 1024:,.0f} KB).{link}"


def watch_task(task: Task, progress: Callable[[float, str], None], interval: float) -> TaskStatus:
    """Poll a task (one request each ``interval`` seconds) until it is done; report progress on the way."""
    while True:
        status = task.status()
        progress(status.progress, status.state.lower())
        if status.done:
            return status
        time.sleep(interval)


def export_folder(export_dir: str | Path | None = None) -> Callable[[], Path]:
    """Where a panel writes its files: ``export_dir`` (made on first use if missing: GDAL's vector writers fail on a
    missing folder with an error of their own, not an ``OSError``), else a temporary folder made on first use."""
    made: list[Path] = [Path(export_dir)] if export_dir is not None else []

    def folder() -> Path:
        if not made:
            made.append(Path(tempfile.mkdtemp(prefix="aef-export-")))
        made[0].mkdir(parents=True, exist_ok=True)  # an OSError here is worded by the panel
        return made[0]

    return folder


def save_table(frame: Any, folder: Callable[[], Path], stem: str, kind: str, what: str) -> Path:
    """Write a GeoDataFrame in ``folder()`` (made on first use) as ``<stem>.parquet`` (GeoParquet, in its own CRS)
    or ``<stem>.geojson`` (degrees, RFC 7946); a file that cannot be written is a ``UsageError`` naming ``what``."""
    from pyogrio.errors import DataSourceError  # loaded with the table's writers anyway; a kernel pays only then

    try:  # the folder is made here, on first use: a file in its way is an OSError, worded
        if kind == "parquet":
            path = folder() / f"{stem}.parquet"
            frame.to_parquet(path)
        else:
            path = folder() / f"{stem}.geojson"
            frame.to_crs("EPSG:4326").to_file(path, driver="GeoJSON")
    except (OSError, DataSourceError) as e:  # GDAL's vector writers (pyogrio) raise their own errors
        raise UsageError(f"could not save the {what}: {e}") from e
    return path
