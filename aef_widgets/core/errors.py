"""Domain exceptions: each says what went wrong in words a user can act on."""

from __future__ import annotations


class AEFError(Exception):
    """Base class of every error this package raises on purpose."""


class SourceError(AEFError):
    """A source cannot be opened or read (missing file, wrong bands, unknown encoding)."""


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


class TooLargeError(AEFError):
    """A request that would need more memory than allowed; the message gives the numbers and what to do instead."""


class ExportError(AEFError):
    """A result that cannot be written (no such folder, no permission, a full disk)."""
