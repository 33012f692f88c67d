"""Products of the Earth Engine engine: server-side images drawn as tiles, measured on request.

Tiles follow the view by themselves, so each layer costs one map request whatever the user does with the map;
thresholds and areas are remembered per value (in the ``EEContext`` passed to every method, keyed by the product's
token) so moving a slider back costs nothing. The products are frozen values: the ``ee.Image`` graphs they hold are
client-side descriptions, which pickle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import ee
import numpy as np

from ..analysis.area import ClassAreas
from ..core.aoi import AOI
from ..core.errors import EarthEngineError
from ..core.grid import Grid
from ..rendering.colors import CHANGED_COLOR, MATCH_COLOR, categorical_colors, continuous_palette, hex_to_rgba
from ..rendering.view import MapView
from .base import (
    AreaSummary,
    ChangeProduct,
    ClusterProduct,
    Product,
    Progress,
    SimilarityProduct,
    ThresholdedProduct,
    Tiles,
    token_field,
)
from .ee_export import ExportTask, download_labels, start_export

if TYPE_CHECKING:
    from .ee_context import EEContext, Region

#: Label pixels downloaded at most by ``EEClusters.export`` (2**25 px is about 3,300 km² at 10 m).
MAX_DOWNLOAD_PIXELS = 2**25


def palette_hex(cmap: str, n: int = 16) -> list[str]:
    """``n`` colours of a matplotlib colormap as Earth Engine palette entries (hex without '#')."""
    return [f"{r:02x}{g:02x}{b:02x}" for r, g, b, _ in continuous_palette(cmap, n)]


def _threshold_key(threshold: float) -> float:
    return round(float(threshold), 6)


@dataclass(frozen=True, eq=False)
class EERGB(Product):
    """A colour composite drawn by Earth Engine."""

    view_dependent = False

    image: ee.Image
    vis: dict
    token: str = token_field()

    def layer(self, ctx: EEContext, view: MapView | None) -> Tiles:
        return ctx.memo((self.token, "rgb"), lambda: ctx.tiles(self.image, self.vis, "drawing the colour composite"))


class _EEThresholded(ThresholdedProduct):
    """Shared behaviour of similarity and change: a value layer, threshold layers and areas, each remembered in
    the context."""

    image: ee.Image
    highlight: str
    view_dependent = False

    def layer(self, ctx: EEContext, view: MapView | None) -> Tiles:
        vis = {"min": self.vmin, "max": self.vmax, "palette": palette_hex(self.cmap)}
        return ctx.memo((self.token, "values"), lambda: ctx.tiles(self.image, vis, "drawing the map"))

    def above_layer(self, ctx: EEContext, threshold: float, view: MapView | None = None) -> Tiles:
        key = _threshold_key(threshold)
        above = self.image.gte(key).selfMask()
        vis = {"min": 0, "max": 1, "palette": [self.highlight.lstrip("#")]}
        return ctx.memo((self.token, "above", key), lambda: ctx.tiles(above, vis, "drawing the threshold"))

    def above_area(self, ctx: EEContext, threshold: float, view: MapView | None = None) -> AreaSummary:
        key = _threshold_key(threshold)
        where = view if self.aoi is None else None  # without an AOI, areas are measured in the view
        region = ctx.region(self.aoi, view)
        return ctx.memo((self.token, "area", key, where), lambda: ctx.area_above(self.image, key, region))


@dataclass(frozen=True, eq=False)
class EESimilarity(_EEThresholded, SimilarityProduct):
    """Similarity to the clicked pixels (the mean of the per-reference cosines), on the server; with negative
    examples, the contrast score (``vmin`` -1)."""

    highlight = MATCH_COLOR

    year: int
    image: ee.Image
    reference: np.ndarray
    readout: float
    aoi: AOI | None
    vmin: float = 0.0
    token: str = token_field()


@dataclass(frozen=True, eq=False)
class EEChange(_EEThresholded, ChangeProduct):
    """Change 1 - cosine between two years, on the server."""

    highlight = CHANGED_COLOR

    year_a: int
    year_b: int
    image: ee.Image
    aoi: AOI | None
    token: str = token_field()


@dataclass(frozen=True, eq=False)
class EEClusters(ClusterProduct):
    """K-means labels computed by Earth Engine (band ``cluster``, classes 0..n-1)."""

    view_dependent = False

    year: int
    image: ee.Image
    n_clusters: int
    areas: ClassAreas
    region: Region
    colors: tuple[str, ...] = field(init=False)
    scope: str = field(init=False)
    token: str = token_field()

    def __post_init__(self) -> None:
        object.__setattr__(self, "colors", tuple(categorical_colors(self.n_clusters)))
        object.__setattr__(self, "scope", self.region.scope)

    def layer(self, ctx: EEContext, view: MapView | None) -> Tiles:
        vis = {"min": 0, "max": self.n_clusters - 1, "palette": [c.lstrip("#") for c in self.colors]}
        return ctx.memo((self.token, "clusters"), lambda: ctx.tiles(self.image, vis, "drawing the clusters"))

    def grid(self, ctx: EEContext) -> Grid:
        """The UTM grid of the region at the scale the clusters were measured."""
        return ctx.source.grid(self.region.aoi, self.region.scale)

    def _labels(self) -> ee.Image:
        """Labels as uint8 with 255 where there is no class, the GeoTIFF convention of both engines."""
        return self.image.unmask(255).toUint8()

    def export(self, ctx: EEContext, path: str | PathLike, progress: Progress | None = None) -> Path:
        """Download the labels into a uint8 GeoTIFF on the region's UTM grid (255 = no data), piece by piece."""
        grid = self.grid(ctx)
        n = grid.width * grid.height
        if n > MAX_DOWNLOAD_PIXELS:
            raise EarthEngineError(
                f"the clusters cover {n:,} pixels, more than can be downloaded interactively "
                f"({MAX_DOWNLOAD_PIXELS:,}); start an export task instead: "
                "product.export_task(engine.context, 'drive')"
            )
        colormap = {i: hex_to_rgba(c) for i, c in enumerate(self.colors)}
        tags = {"YEAR": str(self.year), "CLUSTERS": str(self.n_clusters), "SOURCE": ctx.source.name}
        return download_labels(self._labels(), grid, path, aoi=self.region.aoi, colormap=colormap, tags=tags,
                               progress=progress)  # fmt: skip

    def export_task(
        self,
        ctx: EEContext,
        destination: str = "drive",
        description: str | None = None,
        *,
        folder: str | None = None,
        bucket: str | None = None,
        asset_id: str | None = None,
        file_prefix: str | None = None,
    ) -> ExportTask:
        """Start a batch export of the labels (any size) to Drive, Cloud Storage or an asset; poll its status."""
        description = description or f"aef_clusters_{self.year}_k{self.n_clusters}"
        labels = self._labels().clip(self.region.geometry)
        return start_export(
            labels, self.grid(ctx), self.region.geometry, destination, description,
            folder=folder, bucket=bucket, asset_id=asset_id, file_prefix=file_prefix,
        )  # fmt: skip
