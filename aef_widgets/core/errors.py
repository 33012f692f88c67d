"""Domain exceptions: each says what went wrong in words a user can act on."""

from __future__ import annotations


class AEFError(Exception):
    """Base class of every error this package raises on purpose."""


class SourceError(AEFError):
    """A source cannot be opened or read (missing file, wrong bands, unknown encoding)."""


class TooManyFilesError(SourceError):
    """A read that would open more files than the limit (a zoomed-out view of the public release): zoom in."""


class YearError(AEFError, KeyError):
    """A year the source does not have."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class AOIError(AEFError, ValueError):
    """An area of interest that is not a usable polygon."""


class NoDataError(AEFError):
    """A request that covers no valid embedding pixels."""


class NoDataAtPoint(NoDataError):
    """A point (a map click) where the source has no embedding."""


class EarthEngineError(AEFError):
    """Earth Engine is unavailable, not authorised, or refused a computation."""


class GridMismatchError(AEFError, ValueError):
    """Two fields that must share a grid do not."""


class UsageError(AEFError, ValueError):
    """A request that cannot be carried out as asked (two equal years to compare, too few samples)."""


class LabelsError(AEFError, ValueError):
    """A file of labelled points that cannot be used (not GeoJSON or CSV, missing columns, bad numbers)."""


class TooLargeError(AEFError):
    """A request that would need more memory than allowed; the message gives the numbers and what to do instead."""


class ExportError(AEFError):
    """A result that cannot be written (no such folder, no permission, a full disk)."""
