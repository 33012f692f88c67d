"""An index from embeddings: every pixel's component along a direction of the embedding space, thresholded.

The index of a pixel is ``v · w / |w|``: its embedding's dot product with the user's weights ``w`` scaled to unit
length. AEF embeddings are unit vectors, so the index lies in -1..1 whatever the weights' scale. The weights are a
direction between two clicked pixels (``direction``: from one like "low" to one like "high"; the threshold halfway
between them then splits the map as the nearer of the two would) or 64 numbers loaded from elsewhere (a linear
model's coefficients, say). Computed from the view's field in numpy on the local engine, and as
``image.multiply(weights).reduce(sum)`` on Earth Engine; pixels without data stay without (NaN, masked).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from traitlets import Float, List

from ..analysis.blas import one_blas_thread
from ..analysis.thresholds import AreaHistogram
from ..core.aoi import AOI
from ..core.bands import N_BANDS
from ..core.errors import NoDataAtPoint, UsageError
from ..core.field import EmbeddingField
from ..core.grid import Grid
from ..engines.base import token_field
from ..engines.context import LocalContext
from ..engines.local_products import _LocalThresholded
from ..engines.workflows import CHUNK_BYTES, map_chunks
from ..rendering.colors import MATCH_COLOR
from ..rendering.view import MapView, Resampler
from ..sources.base import mask_to_aoi, subgrid
from .threshold import threshold_family

INDEX = threshold_family(
    "index",
    ("source", "year", "index_weights", "aoi"),
    threshold="index_threshold",
    values=("index layer", "Index", "index"),
    above=("index above layer", "Index above threshold", "index above"),
    area="index area",
    traits={
        "index_weights": List(Float(), maxlen=N_BANDS, help="Weights of the index, one per band (empty: no index)"),
        "index_threshold": Float(0.0, min=-1.0, max=1.0, help="Index at or above which a pixel counts"),
    },
)
CMAP = "RdYlGn"


def unit_weights(weights: Sequence[float]) -> np.ndarray:
    """The weights as a unit 64-vector (float64), or a ``UsageError`` saying what is wrong with them."""
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.size != N_BANDS:
        raise UsageError(f"an index needs {N_BANDS} weights, one per band, not {w.size}")
    norm = float(np.linalg.norm(w))
    if not np.isfinite(w).all() or norm == 0.0:
        raise UsageError("the index's weights must be finite numbers, not all zero")
    return w / norm


def direction(low: np.ndarray, high: np.ndarray) -> tuple[list[float], float]:
    """Weights pointing from embedding ``low`` to ``high``, and the threshold halfway between their indexes."""
    low, high = np.asarray(low, np.float64), np.asarray(high, np.float64)
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        raise NoDataAtPoint("there is no embedding at that point; click where the map has data")
    if np.allclose(low, high):
        raise UsageError("the two pixels have the same embedding: pick two that differ")
    w = unit_weights(high - low)
    return [float(x) for x in w], float(np.clip(w @ (low + high) / 2, -1.0, 1.0))


def direction_between(
    source: Any, year: int, low: tuple[float, float], high: tuple[float, float]
) -> tuple[list[float], float]:
    """Weights from the embedding at ``low`` to the one at ``high`` (lon, lat) in ``year``, and the threshold halfway:
    the two pixels are read from ``source`` (one request for both)."""
    return direction(*source.sample([low, high], year))


def index_values(field: EmbeddingField, weights: np.ndarray) -> np.ndarray:
    """The index of every pixel of a field (float32 (rows, cols), NaN without data), for unit ``weights``."""
    rows, cols = field.shape
    with one_blas_thread():
        values = (field.values.reshape(-1, N_BANDS) @ weights.astype(np.float32)).reshape(rows, cols)
    values[~field.mask] = np.nan
    return values


@dataclass(frozen=True, eq=False)
class LocalIndex(_LocalThresholded):
    """The index of every pixel of a year, drawn for any view, with areas above a threshold (local engine): a value
    of what it was computed for; the reader context is given to every method."""

    highlight, cmap, vmin, vmax = MATCH_COLOR, CMAP, -1.0, 1.0

    year: int
    weights: np.ndarray
    aoi: AOI | None
    token: str = token_field()

    def _values(self, ctx: LocalContext, view: MapView) -> tuple[np.ndarray, Resampler] | None:
        read = ctx.view_field(self.year, view)
        if read is None:
            return None
        field, resampler = read
        return ctx.memo((self.token, "maps", field.grid), lambda: index_values(field, self.weights)), resampler

    def _histogram(self, ctx: LocalContext, grid: Grid, aoi: AOI | None) -> AreaHistogram:
        source, histogram = ctx.source, AreaHistogram()

        def task(window) -> np.ndarray:
            return index_values(mask_to_aoi(source.read_window(subgrid(grid, window), self.year), aoi), self.weights)

        windows = source.chunk_windows(grid, CHUNK_BYTES)
        for window, values in map_chunks(windows, task, source=source, executor=ctx.executor):
            histogram.add(values, subgrid(grid, window))
        return histogram


def local_index(ctx: LocalContext, year: int, weights: Sequence[float], aoi: AOI | None) -> LocalIndex:
    ctx.source.check_year(year)
    return LocalIndex(year, unit_weights(weights), aoi)


def ee_image(source: Any, year: int, weights: Sequence[float]) -> Any:
    """The index as an Earth Engine image: the year's 64 bands times the unit weights, summed (built offline)."""
    from ..engines.ee_context import embedding_dot  # Earth Engine is imported when an EE source asks for it

    return embedding_dot(source.image(year), unit_weights(weights)).rename("index")


@cache
def _ee_class() -> type:
    from ..engines.earthengine_products import _EEThresholded

    @dataclass(frozen=True, eq=False)
    class EEIndex(_EEThresholded):
        """The index computed by Earth Engine: tiles, and areas above a threshold in one request each."""

        highlight, cmap, vmin, vmax = MATCH_COLOR, CMAP, -1.0, 1.0

        year: int
        image: Any
        weights: np.ndarray
        aoi: AOI | None
        token: str = token_field()

    return EEIndex


def ee_index(ctx: Any, year: int, weights: Sequence[float], aoi: AOI | None) -> Any:
    ctx.source.check_year(year)
    return _ee_class()(year, ee_image(ctx.source, year, weights), unit_weights(weights), aoi)


def index_product(ctx: Any, year: int, weights: Sequence[float], aoi: AOI | None) -> Any:
    """The index product of a year on the engine whose reader context is ``ctx`` (local or Earth Engine)."""
    if isinstance(ctx, LocalContext):
        return local_index(ctx, year, weights, aoi)
    return ee_index(ctx, year, weights, aoi)
