"""Trajectories of polygons: how much each field's mean embedding changed, year by year, over every year.

A field's trajectory is read from its zonal means (``zonal_embeddings``, all years at once): for each year, the
change from the field's first year with data and from its latest earlier year with data, each 1 minus the cosine of
the two unit means (0: unchanged, up to 2), as the Fields tab's change products measure change. A year without data
(``pixels`` 0) has no change, and is skipped as a "previous" year: the next year is compared with the last one that
had data, as the Time tab's trajectories do for pixels. It runs on either engine, through ``zonal_embeddings``.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.bands import BAND_NAMES
from ..sources.base import EmbeddingSource
from .base import Progress
from .tables import zonal_embeddings

if TYPE_CHECKING:
    import geopandas as gpd

#: The columns ``zonal_trajectories`` adds to the zonal table.
TRAJECTORY_COLUMNS = ("change_from_first", "change_from_previous")


def zonal_trajectories(
    source: EmbeddingSource,
    polygons: Any,
    years: int | Sequence[int] | None = None,
    *,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> gpd.GeoDataFrame:
    """The table of ``zonal_embeddings`` (one row per polygon and year, every year the source has by default) with
    ``change_from_first`` and ``change_from_previous``: 1 minus the cosine of the polygon's unit mean with its mean
    in its first year with data, and in its latest earlier year with data (NaN without data, and for the first)."""
    if years is not None:  # in order, each once: a trajectory runs forward in time
        years = sorted({int(y) for y in ([years] if isinstance(years, (int, np.integer)) else years)})
    table = zonal_embeddings(source, polygons, years, executor=executor, progress=progress)
    n_years = len(years) if years is not None else len(source.years)
    vectors = table[list(BAND_NAMES)].to_numpy(np.float64).reshape(-1, n_years, len(BAND_NAMES))
    first, previous = trajectory_changes(vectors)
    table["change_from_first"] = first.reshape(-1)
    table["change_from_previous"] = previous.reshape(-1)
    return table


def trajectory_changes(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fields, years) changes from the first year with data and from the latest earlier year with data, of
    (fields, years, 64) unit means (rows of NaN: no data)."""
    has = np.isfinite(vectors).all(axis=2)
    from_first = np.full(has.shape, np.nan)
    from_previous = np.full(has.shape, np.nan)
    for f in range(len(vectors)):
        seen = np.flatnonzero(has[f])
        if not len(seen):
            continue
        v = vectors[f, seen]
        from_first[f, seen] = 1.0 - np.clip(v @ v[0], -1.0, 1.0)
        from_previous[f, seen[1:]] = 1.0 - np.clip(np.einsum("ij,ij->i", v[1:], v[:-1]), -1.0, 1.0)
    return from_first, from_previous
