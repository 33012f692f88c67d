"""Getting results out of Earth Engine: small rasters downloaded piece by piece, large ones as batch exports.

Downloads ask ``computePixels`` for tiles small enough for Earth Engine's request limit and write one GeoTIFF on
the native UTM grid. Exports hand the same grid (``crs`` and ``crsTransform``) to an ``ee.batch`` task, whose
progress can be polled without blocking, one request per poll.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import ee
import numpy as np

from ..core.aoi import AOI
from ..core.errors import UsageError
from ..core.grid import Grid
from ..sources.base import chunk_windows, subgrid
from ..sources.earthengine import compute_pixels, crs_code, ee_errors, redact, request_side
from ..sources.export import LABEL_NODATA, write_labels
from .base import Progress

DESTINATIONS = ("drive", "gcs", "asset")
#: Pixels an export task may write (Earth Engine's own default is 1e8, too few for a large AOI at 10 m).
EXPORT_MAX_PIXELS = 10**13
#: Side of downloaded label tiles: small enough that k-means of 64 bands finishes within an interactive request.
DOWNLOAD_TILE = 2048
_FINISHED = ("SUCCEEDED", "FAILED", "CANCELLED")


@dataclass(frozen=True)
class ExportStatus:
    """Where an export task is: its state, how far it got (0..1), and words for the panel."""

    state: str
    progress: float
    message: str
    destination_uris: tuple[str, ...] = ()

    @property
    def done(self) -> bool:
        """True once the task succeeded, failed or was cancelled."""
        return self.state in _FINISHED

    @property
    def succeeded(self) -> bool:
        """True when the file or asset was written."""
        return self.state == "SUCCEEDED"


class ExportTask:
    """An Earth Engine batch export that can be started, polled and cancelled."""

    def __init__(self, task: ee.batch.Task, destination: str) -> None:
        self.task = task
        self.destination = destination

    def __repr__(self) -> str:
        return f"ExportTask({self.description!r} to {self.destination}, {self.task.name or 'not started'})"

    @property
    def description(self) -> str:
        """The task's name in the Earth Engine task list."""
        return (self.task.config or {}).get("description", "")

    def start(self) -> ExportTask:
        """Submit the task (one request); returns self."""
        with ee_errors("starting the export"):
            self.task.start()
        return self

    def status(self) -> ExportStatus:
        """The task's state and progress, in one request."""
        if not self.task.name:
            return ExportStatus("UNSUBMITTED", 0.0, "not started yet")
        with ee_errors("checking the export"):
            operation = ee.data.getOperation(self.task.name)
        return status_from_operation(operation)

    @property
    def progress(self) -> float:
        """Fraction done, 0..1 (one request)."""
        return self.status().progress

    def cancel(self) -> None:
        """Ask Earth Engine to stop the task."""
        if self.task.name:
            with ee_errors("cancelling the export"):
                ee.data.cancelOperation(self.task.name)


def status_from_operation(operation: Mapping) -> ExportStatus:
    """An ``ExportStatus`` from a Cloud API Operation (``metadata.state``, ``metadata.progress``, ``done``)."""
    meta = operation.get("metadata") or {}
    state = str(meta.get("state") or "PENDING")
    progress = float(meta.get("progress") or 0.0)
    uris = tuple(meta.get("destinationUris") or ())
    if operation.get("done"):
        if "error" in operation:
            state = "FAILED" if state != "CANCELLED" else state
        elif state not in _FINISHED:
            state = "SUCCEEDED"
    if state == "SUCCEEDED":
        return ExportStatus(state, 1.0, "finished: " + (", ".join(uris) or "see your export destination"), uris)
    if state == "FAILED":
        error = redact(str((operation.get("error") or {}).get("message") or "no reason given"))
        return ExportStatus(state, progress, f"failed: {error}", uris)
    if state in ("CANCELLED", "CANCELLING"):
        return ExportStatus(state, progress, "cancelled", uris)
    if state == "RUNNING":
        return ExportStatus(state, progress, f"running: {100 * progress:.0f}% done", uris)
    return ExportStatus(state, progress, "waiting to start on Earth Engine", uris)


def start_export(
    image: ee.Image,
    grid: Grid,
    region: ee.Geometry,
    destination: str = "drive",
    description: str = "aef_export",
    *,
    folder: str | None = None,
    bucket: str | None = None,
    asset_id: str | None = None,
    file_prefix: str | None = None,
    no_data: int = LABEL_NODATA,
) -> ExportTask:
    """Start exporting ``image`` on ``grid`` (its CRS and pixel lattice) to Drive, Cloud Storage or an asset."""
    if destination not in DESTINATIONS:
        raise UsageError(f"destination must be one of {', '.join(DESTINATIONS)}, got {destination!r}")
    description = re.sub(r"[^\w.,:;\-]", "_", description)[:100]
    t = grid.transform
    where = {
        "region": region, "crs": crs_code(grid.crs), "crsTransform": [t.a, t.b, t.c, t.d, t.e, t.f],
        "maxPixels": EXPORT_MAX_PIXELS,
    }  # fmt: skip
    tiff = {"fileFormat": "GeoTIFF", "formatOptions": {"noData": no_data, "cloudOptimized": True}}
    prefix = file_prefix or description
    if destination == "drive":
        task = ee.batch.Export.image.toDrive(
            image=image, description=description, folder=folder, fileNamePrefix=prefix, **where, **tiff
        )
    elif destination == "gcs":
        if not bucket:
            raise UsageError("an export to Cloud Storage needs bucket=")
        task = ee.batch.Export.image.toCloudStorage(
            image=image, description=description, bucket=bucket, fileNamePrefix=prefix, **where, **tiff
        )
    else:
        if not asset_id:
            raise UsageError("an export to an asset needs asset_id=")
        # labels are categories: pyramids must pick a class, never average them
        task = ee.batch.Export.image.toAsset(
            image=image, description=description, assetId=asset_id, pyramidingPolicy={".default": "mode"}, **where
        )
    return ExportTask(task, destination).start()


def download_labels(
    image: ee.Image,
    grid: Grid,
    path: str | PathLike,
    *,
    aoi: AOI | None = None,
    colormap: Mapping[int, tuple[int, int, int, int]] | None = None,
    tags: dict | None = None,
    progress: Progress | None = None,
    tile: int = DOWNLOAD_TILE,
) -> Path:
    """Download a one-band uint8 label image (255 = no class) on ``grid`` into a GeoTIFF, one request per tile.

    Pixels whose centre is outside ``aoi`` are written as no data, as the local engine writes them.
    """
    report = progress or (lambda fraction, message: None)
    labels = np.full(grid.shape, -1, dtype=np.int16)
    windows = list(chunk_windows(grid, min(tile, request_side(1))))
    for i, window in enumerate(windows):
        array = compute_pixels(image, subgrid(grid, window), "downloading the clusters")
        data = array[array.dtype.names[0]] if array.dtype.names else array
        if data.ndim == 3:
            data = data[..., 0]
        piece = data.astype(np.int16)
        piece[piece == LABEL_NODATA] = -1
        labels[window.toslices()] = piece
        report((i + 1) / len(windows), f"downloaded {i + 1} of {len(windows)} pieces")
    if aoi is not None:
        labels[~aoi.mask(grid)] = -1
    return write_labels(path, labels, grid, colormap, tags)
