"""The Earth Engine class map as a product: ``ee_classify``'s images drawn as tiles, areas measured once; a frozen
value drawn with the ``EEContext`` passed in (``product.layer(ctx, view, colors)``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import numpy as np

from ..analysis.area import ClassAreas
from ..core.aoi import AOI
from ..core.errors import EarthEngineError, NoDataError
from ..rendering.colors import categorical_colors, hex_to_rgba
from ..rendering.view import MapView
from .base import ClassProduct, Progress, Tiles, token_field, training_data
from .earthengine_classify import EEClassification, ee_classify
from .earthengine_products import MAX_DOWNLOAD_PIXELS, palette_hex
from .ee_context import EEContext
from .ee_export import download_labels
from .local_classes import CONFIDENCE_CMAP


@dataclass(frozen=True, eq=False)
class EEClasses(ClassProduct):
    """Classes and confidence computed by Earth Engine; tiles follow the view by themselves."""

    view_dependent = False

    year: int
    result: EEClassification
    vectors: np.ndarray
    targets: np.ndarray
    lonlat: np.ndarray
    dropped: int = 0
    n_classes: int = field(init=False)
    method: str = field(init=False)
    areas: ClassAreas | None = field(init=False)
    scope: str = field(init=False)
    token: str = token_field()

    def __post_init__(self) -> None:
        result = self.result
        object.__setattr__(self, "n_classes", result.n_classes)
        object.__setattr__(self, "method", result.method)
        object.__setattr__(self, "areas", result.areas)
        scope = result.region.scope if result.region is not None else "where the map shows it"
        object.__setattr__(self, "scope", scope)

    def layer(self, ctx: EEContext, view: MapView | None, colors: Sequence[str] = ()) -> Tiles:
        palette = [c.lstrip("#") for c in (list(colors) or categorical_colors(self.n_classes))]
        vis = {"min": 0, "max": self.n_classes - 1, "palette": palette}
        return ctx.memo(
            (self.token, "classes", *palette), lambda: ctx.tiles(self.result.labels, vis, "drawing the classes")
        )

    def confidence_layer(self, ctx: EEContext, view: MapView | None) -> Tiles:
        vis = {"min": 0, "max": 1, "palette": palette_hex(CONFIDENCE_CMAP)}
        return ctx.memo(
            (self.token, "confidence"), lambda: ctx.tiles(self.result.confidence, vis, "drawing the confidence")
        )

    def export(
        self, ctx: EEContext, path: str | PathLike, colors: Sequence[str] = (), progress: Progress | None = None
    ) -> Path:
        """Download the classes into a uint8 GeoTIFF on the region's UTM grid (255 = no data)."""
        region = self.result.region
        if region is None:
            raise NoDataError("draw an AOI to export the classes from Earth Engine")
        grid = ctx.source.grid(region.aoi, region.scale)
        if grid.width * grid.height > MAX_DOWNLOAD_PIXELS:
            raise EarthEngineError(
                f"the class map covers {grid.width * grid.height:,} pixels, more than can be downloaded "
                f"interactively ({MAX_DOWNLOAD_PIXELS:,}); draw a smaller AOI"
            )
        colormap = {i: hex_to_rgba(c) for i, c in enumerate(list(colors) or categorical_colors(self.n_classes))}
        tags = {"YEAR": str(self.year), "CLASSES": str(self.n_classes), "METHOD": self.method}
        labels = self.result.labels.unmask(255).toUint8()
        return download_labels(labels, grid, path, aoi=region.aoi, colormap=colormap, tags=tags, progress=progress)


def ee_classes(
    engine: EEContext, year: int, points: Sequence[tuple[float, float]], targets: Sequence[int],
    n_classes: int, aoi: AOI | None, view: MapView | None, method: str = "auto", seed: int = 0,
    progress: Progress | None = None,
) -> EEClasses:  # fmt: skip
    """``ee_classify`` on the labels with data in ``year``: one request samples them, one measures the areas."""
    training = training_data(engine.source, year, points, targets)
    if len(np.unique(training[1])) < 2:
        raise NoDataError("label at least two classes where the map has data to classify")
    report = progress or (lambda fraction, message: None)
    report(0.1, "training and classifying on Earth Engine")
    result = ee_classify(
        engine, year, [tuple(p) for p in training[2]], training[1].tolist(), n_classes, method, aoi, view, seed,
        vectors=training[0],
    )  # fmt: skip
    report(1.0, "done")
    return EEClasses(year, result, *training)
