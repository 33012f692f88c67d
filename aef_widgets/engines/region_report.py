"""What a region search is asked and what it says back: its inputs checked into words, and its report.

Shared by the local search (``region_search``, ``region_coarse``) and the Earth Engine one
(``earthengine_region_search``), which otherwise know nothing of each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..analysis.region_search import suppress
from ..core.aoi import AOI
from ..core.bands import N_BANDS
from ..core.errors import UsageError
from ..sources.base import EmbeddingSource

if TYPE_CHECKING:  # geopandas takes a second to import: loaded when a search returns
    import geopandas


@dataclass(frozen=True)
class LevelRead:
    """What a search read at one resolution: pixels read out of the region's pixels there, in how many chunks."""

    resolution_m: float
    pixels: int
    region_pixels: int
    chunks: int
    region_chunks: int

    @property
    def fraction(self) -> float:
        """Share of the region's pixels read at this level."""
        return self.pixels / self.region_pixels if self.region_pixels else 0.0


@dataclass(frozen=True)
class SearchReport:
    """How a search went: its method, what it read at each level, and how far its pruning can be trusted."""

    method: str  # "exact" or "coarse-to-fine"
    levels: tuple[LevelRead, ...]
    #: The pruning in words: none, or the assumption under which it is sound.
    pruning: str
    #: The best coarse score of a chunk left unread at 10 m plus the margin (NaN when nothing was pruned): what
    #: an unread pixel could score were the margin right.
    unread_bound: float = float("nan")

    def __str__(self) -> str:
        read = ", ".join(f"{100 * lv.fraction:.1f}% at {lv.resolution_m:g} m" for lv in self.levels)
        return f"{self.method} search: read {read}; {self.pruning}"


def check_search(top: int, min_distance_m: float) -> tuple[int, float]:
    """``top`` and ``min_distance_m`` checked: a whole number of results at least 1, a distance of 0 or more."""
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise UsageError(f"top must be a whole number of results, 1 or more, got {top!r}")
    try:
        distance = float(min_distance_m)
    except (TypeError, ValueError):
        raise UsageError(f"min_distance_m must be a distance in metres, got {min_distance_m!r}") from None
    if not np.isfinite(distance) or distance < 0:
        raise UsageError(f"min_distance_m must be 0 or more metres, got {min_distance_m!r}")
    return int(top), distance


def as_region(region: AOI | Sequence[float]) -> AOI:
    """An AOI from an AOI or a (west, south, east, north) box in degrees."""
    if isinstance(region, AOI):
        return region
    try:
        box = [float(v) for v in region]  # type: ignore[union-attr]
    except (TypeError, ValueError):
        box = []
    if len(box) != 4:
        raise UsageError(f"region must be an AOI or a (west, south, east, north) box in degrees, got {region!r}")
    return AOI.from_bounds(*box)


def references(source: EmbeddingSource, refs: np.ndarray | Sequence, year: int) -> np.ndarray:
    """(n, 64) embeddings as given, or read at (n, 2) lon/lat points; an empty (0, 64) array for none."""
    array = np.asarray(refs, dtype=np.float64)
    if array.size == 0:
        return np.empty((0, N_BANDS))
    if array.ndim == 2 and array.shape[1] == 2:
        return source.sample([tuple(p) for p in array], year).astype(np.float64)
    if array.shape[-1] != N_BANDS:
        raise UsageError(
            f"references must be (n, 64) embeddings or (n, 2) lon/lat points, got an array of shape {array.shape}"
        )
    return array.reshape(-1, N_BANDS)


def ranked_points(
    lon: np.ndarray,
    lat: np.ndarray,
    scores: np.ndarray,
    year: int,
    top: int,
    min_distance_m: float,
    search: SearchReport,
) -> geopandas.GeoDataFrame:
    """Found pixels (best first) as ranked points in WGS84, one per ``min_distance_m`` neighbourhood, at most
    ``top``, with the search's report in ``attrs["search"]``: what both searches, local and Earth Engine, return."""
    import geopandas

    lon, lat = np.asarray(lon, np.float64), np.asarray(lat, np.float64)
    keep = suppress(lon, lat, top, min_distance_m)
    frame = geopandas.GeoDataFrame(
        {
            "score": np.asarray(scores)[keep].astype(np.float64),
            "rank": np.arange(1, len(keep) + 1),
            "year": np.full(len(keep), int(year)),
        },
        geometry=geopandas.points_from_xy(lon[keep], lat[keep]),
        crs="EPSG:4326",
    )
    frame.attrs["search"] = search
    return frame
