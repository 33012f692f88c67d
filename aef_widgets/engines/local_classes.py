"""The local engine's class map: an ``EmbeddingClassifier`` trained on the labels, streamed over the AOI or view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import numpy as np
from pyproj import Transformer

from ..analysis.area import ClassAreas, class_areas
from ..analysis.classify import ClassMap, EmbeddingClassifier
from ..analysis.uncertainty import most_uncertain
from ..core.aoi import AOI
from ..core.errors import NoDataError
from ..core.grid import LONLAT, Grid
from ..rendering.colors import categorical_colors, hex_to_rgba
from ..rendering.overlay import Overlay, categorical_overlay, continuous_overlay
from ..rendering.view import MapView
from ..sources.export import write_labels
from .base import ClassProduct, Progress, token_field, training_data
from .context import LocalContext
from .local_products import grid_resampler
from .workflows import classify_grid

#: Suggested pixels are at least this many pixels of the class map apart, so they do not crowd one field edge.
SUGGESTION_SPACING_PX = 20
CONFIDENCE_CMAP = "viridis"


@dataclass(frozen=True, eq=False)
class LocalClasses(ClassProduct):
    """Classes of every pixel of a grid (-1 = no data), their confidence and margin, and the labels behind them
    (``vectors``, ``targets``, ``lonlat``, ``dropped``: see ``ClassProduct``)."""

    year: int
    grid: Grid
    model: EmbeddingClassifier
    n_classes: int
    scope: str
    labels: np.ndarray
    confidence: np.ndarray
    margin: np.ndarray
    vectors: np.ndarray
    targets: np.ndarray
    lonlat: np.ndarray
    dropped: int = 0
    method: str = field(init=False)
    areas: ClassAreas = field(init=False)
    token: str = token_field()

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", self.model.method_)
        object.__setattr__(self, "areas", class_areas(self.labels, self.grid, self.n_classes))

    @classmethod
    def of(
        cls, year: int, result: ClassMap, grid: Grid, model: EmbeddingClassifier, n_classes: int, scope: str,
        training: tuple[np.ndarray, np.ndarray, np.ndarray, int],
    ) -> LocalClasses:  # fmt: skip
        """The product of a classified grid: the model's class indices mapped to the panel's (the labelled ones)."""
        known = np.asarray(model.classes_, dtype=np.int16)
        labels = np.where(result.labels >= 0, known[np.clip(result.labels, 0, None)], -1).astype(np.int16)
        return cls(year, grid, model, n_classes, scope, labels, result.confidence, result.margin, *training)

    def layer(self, ctx: LocalContext, view: MapView, colors: Sequence[str] = ()) -> Overlay | None:
        resampler = grid_resampler(ctx, self.token, self.grid, view)
        colors = list(colors) or categorical_colors(self.n_classes)
        return None if resampler is None else categorical_overlay(self.labels, colors, resampler)

    def confidence_layer(self, ctx: LocalContext, view: MapView) -> Overlay | None:
        resampler = grid_resampler(ctx, self.token, self.grid, view)
        return None if resampler is None else continuous_overlay(self.confidence, 0.0, 1.0, CONFIDENCE_CMAP, resampler)

    def suggestions(self, n: int = 10) -> list[tuple[float, float]]:
        rows, cols = most_uncertain(self.margin, n, min_distance_px=SUGGESTION_SPACING_PX)
        if len(rows) == 0:
            return []
        x, y = self.grid.transform @ (cols + 0.5, rows + 0.5)
        lon, lat = Transformer.from_crs(self.grid.crs, LONLAT, always_xy=True).transform(x, y)
        return [(float(a), float(b)) for a, b in zip(np.atleast_1d(lon), np.atleast_1d(lat))]

    def export(self, ctx: LocalContext, path: str | PathLike, colors: Sequence[str] = ()) -> Path:
        colors = list(colors) or categorical_colors(self.n_classes)
        colormap = {i: hex_to_rgba(c) for i, c in enumerate(colors)}
        tags = {"YEAR": str(self.year), "CLASSES": str(self.n_classes), "METHOD": self.method,
                "SOURCE": ctx.source.name}  # fmt: skip
        return write_labels(path, self.labels, self.grid, colormap, tags)


def local_classes(
    ctx: LocalContext, year: int, points: Sequence[tuple[float, float]], targets: Sequence[int], n_classes: int,
    aoi: AOI | None, view: MapView | None, method: str = "auto", seed: int = 0, progress: Progress | None = None,
) -> LocalClasses:  # fmt: skip
    """Train on the labels with data in ``year`` and classify the AOI at 10 m (else the view as it is read)."""
    ctx.source.check_year(year)
    key = (year, tuple(tuple(map(float, p)) for p in points), tuple(map(int, targets)), method, seed)
    training, model = ctx.trained.get(key, lambda: _train(ctx, year, points, targets, method, seed))
    grid, mask_aoi, scope = ctx.measure_grid(aoi, view)
    result = classify_grid(ctx.source, grid, year, mask_aoi, model, progress, executor=ctx.executor)
    return LocalClasses.of(year, result, grid, model, n_classes, scope, training)


def _train(
    ctx: LocalContext, year: int, points: Sequence[tuple[float, float]], targets: Sequence[int], method: str,
    seed: int,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, int], EmbeddingClassifier]:  # fmt: skip
    """The labels' vectors in ``year`` and the classifier fitted on them (the model choice cross-validates)."""
    training = training_data(ctx.source, year, points, targets)
    if len(np.unique(training[1])) < 2:
        lost = f" ({training[3]} labels lie where {year} has no data)" if training[3] else ""
        raise NoDataError(f"label at least two classes where the map has data to classify{lost}")
    return training, EmbeddingClassifier(method, random_state=seed).fit(training[0], training[1])
