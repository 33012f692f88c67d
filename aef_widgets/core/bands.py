"""The 64 embedding bands and the standard way to look at three of them."""

from __future__ import annotations

from .errors import UsageError

N_BANDS = 64
BAND_NAMES: tuple[str, ...] = tuple(f"A{i:02d}" for i in range(N_BANDS))
#: Earth Engine's standard visualisation of the dataset.
DEFAULT_RGB_BANDS: tuple[str, str, str] = ("A01", "A16", "A09")
DEFAULT_STRETCH: tuple[float, float] = (-0.3, 0.3)


def band_index(band: str | int) -> int:
    """Index 0..63 of a band given as ``"A07"`` or ``7``."""
    if isinstance(band, bool):
        raise UsageError(f"not a band: {band!r}")
    if isinstance(band, int):
        if 0 <= band < N_BANDS:
            return band
    elif isinstance(band, str) and band.upper() in BAND_NAMES:
        return BAND_NAMES.index(band.upper())
    raise UsageError(f"unknown band {band!r}: bands are A00..A63")
