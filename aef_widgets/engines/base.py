"""Products computed from a source, the same for both engines.

An engine turns the shared state (year, bands, reference points, AOI, ...) into products: map layers, readouts,
areas and exports. The local engine computes them in-process with numpy from any ``EmbeddingSource``; the Earth
Engine engine builds server-side computations. Widgets only talk to this interface.

A product is a frozen value of what it was computed for (a year, references, an AOI, the arrays or server-side
images computed): it holds no engine and no reader context, so it pickles (Dask) and two products never share
state. Reading what a view shows is given to it: every method that draws, measures or writes takes the engine's
reader context first (``engine.context``: a ``LocalContext`` or an ``EEContext``), then the method's own arguments
in the same order on every product::

    product.layer(ctx, view)                    # ClassProduct: layer(ctx, view, colors)
    product.preview(ctx, view)
    product.above_layer(ctx, threshold, view)
    product.above_area(ctx, threshold, view)
    product.confidence_layer(ctx, view)
    product.export(ctx, path, ...)              # and export_task(ctx, ...), export_polygons(ctx, path, ...)

What a product remembers between calls (a view's values, histograms, resamplers, tiles, areas) lives in that
context's bounded memo, keyed by the product's ``token`` (``ctx.memo((product.token, "maps", grid), compute)``),
so products of different contexts never meet and memory stays bounded by the context. Methods that read nothing
(``suggestions``, ``labels``, ``areas``) take no context.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np

from ..analysis.area import ClassAreas
from ..analysis.composite import RGBStyle
from ..core.aoi import AOI
from ..rendering.overlay import Overlay
from ..rendering.view import MapView
from ..sources.base import EmbeddingSource

#: Called with (fraction done 0..1, what is happening) during long computations.
Progress = Callable[[float, str], None]
T = TypeVar("T")


class ReaderContext(Protocol):
    """What every reader context offers products: its source and a bounded memo keyed by product tokens."""

    source: EmbeddingSource

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` remembered under ``key`` (which starts with a product's ``token``), within the context's
        bounds."""


def new_token() -> str:
    """A token naming one computed product (its memo entries): unique, and kept by a pickled copy, which is the
    same value."""
    return uuid.uuid4().hex


def token_field() -> Any:
    """The ``token`` field of a product dataclass: keyword-only, made fresh for every new product."""
    return field(default_factory=new_token, repr=False, kw_only=True)


@dataclass(frozen=True)
class Tiles:
    """A tile layer served by someone else (Earth Engine): an XYZ URL template."""

    url: str
    attribution: str = ""


#: What a product draws: an image for the current view, or tiles that follow the view by themselves.
Layer = Overlay | Tiles


@dataclass(frozen=True)
class AreaSummary:
    """An area and its share of the valid area it was measured in, with words for where that was."""

    hectares: float
    percent: float
    scope: str

    def describe(self) -> str:
        return f"{self.hectares:,.1f} ha ({self.percent:.1f}% of valid area {self.scope})"


class Product(ABC):
    """Something drawn on the map: a frozen value whose ``token`` keys its memo entries in a reader context."""

    #: True when ``layer`` must be redrawn as the view moves (images); False for self-updating tiles.
    view_dependent: bool = True
    token: str

    @abstractmethod
    def layer(self, ctx: ReaderContext, view: MapView) -> Layer | None:
        """The layer for this view, or None when the view shows none of it."""

    def preview(self, ctx: ReaderContext, view: MapView) -> Layer | None:
        """A quick coarse layer of this view to show while ``layer`` is computed (a remote source's overview);
        None when there is none worth showing."""
        return None


class ThresholdedProduct(Product):
    """A map of values with a threshold: the pixels at or above it, and their area."""

    vmin: float = 0.0
    vmax: float = 1.0
    cmap: str = "viridis"
    #: Where areas are measured: this AOI, or (None) the view they are asked for.
    aoi: AOI | None = None

    @abstractmethod
    def above_layer(self, ctx: ReaderContext, threshold: float, view: MapView) -> Layer | None:
        """Pixels with value >= threshold, in a highlight colour."""

    @abstractmethod
    def above_area(self, ctx: ReaderContext, threshold: float, view: MapView | None) -> AreaSummary:
        """Area of those pixels, in the product's AOI when it has one, else in ``view``."""


class SimilarityProduct(ThresholdedProduct):
    """Similarity of every pixel to one or more reference pixels: the mean of its cosines to each reference."""

    year: int
    #: Similarity of the most recent reference pixel, as the map shows it there (1 for a single reference).
    readout: float


class ChangeProduct(ThresholdedProduct):
    """Change between two years: 1 - the cosine of each pixel's two embeddings (0 = unchanged)."""

    year_a: int
    year_b: int
    cmap: str = "magma"


class ClusterProduct(Product):
    """K-means clusters of an area."""

    n_clusters: int
    colors: tuple[str, ...]
    areas: ClassAreas
    #: Where the clusters were computed, in words ("in the AOI at 10 m").
    scope: str

    @abstractmethod
    def export(self, ctx: ReaderContext, path: str | PathLike) -> Path:
        """Write the clusters as a uint8 GeoTIFF in the source's CRS and grid (255 = no data)."""


class ClassProduct(Product):
    """A class map trained on labelled points: a class per pixel, its confidence (top probability), areas.

    ``vectors``, ``targets`` and ``lonlat`` are the labels it was trained on (those with data in ``year``);
    ``dropped`` counts the labels left out because the year has no embedding there.
    """

    year: int
    n_classes: int
    method: str
    areas: ClassAreas | None
    scope: str
    vectors: np.ndarray
    targets: np.ndarray
    lonlat: np.ndarray
    dropped: int = 0

    @abstractmethod
    def layer(self, ctx: ReaderContext, view: MapView, colors: Sequence[str] = ()) -> Layer | None:
        """The classes in ``colors`` (one per class index)."""

    @abstractmethod
    def confidence_layer(self, ctx: ReaderContext, view: MapView) -> Layer | None:
        """The top class probability of every pixel, 0 to 1."""

    def suggestions(self, n: int = 10) -> list[tuple[float, float]]:
        """(lon, lat) of up to ``n`` pixels the classifier is least sure of; [] where the engine cannot tell."""
        return []

    @abstractmethod
    def export(self, ctx: ReaderContext, path: str | PathLike, colors: Sequence[str] = ()) -> Path:
        """Write the classes as a uint8 GeoTIFF with a colour table (255 = no data)."""


class Engine(ABC):
    """Computes products from one source."""

    source: EmbeddingSource

    @abstractmethod
    def rgb(self, year: int, style: RGBStyle, region: AOI | MapView | None = None) -> Product:
        """A colour composite of the embeddings; a PCA composite is fitted in ``region`` where the engine needs one."""

    @abstractmethod
    def similarity(
        self, year: int, points: Sequence[tuple[float, float]], aoi: AOI | None,
        negatives: Sequence[tuple[float, float]] = (),
    ) -> SimilarityProduct:  # fmt: skip
        """Similarity to the pixels at lon/lat ``points``; areas are measured in ``aoi`` (else in a view).

        With ``negatives`` ("not like these"), the score is ``contrast_score``: the mean cosine to the positives
        minus the mean cosine to the negatives."""

    @abstractmethod
    def change(self, year_a: int, year_b: int, aoi: AOI | None) -> ChangeProduct:
        """Change from ``year_a`` to ``year_b``; areas are measured in ``aoi`` (else in a view)."""

    @abstractmethod
    def clusters(
        self,
        year: int,
        aoi: AOI | None,
        view: MapView | None,
        n_clusters: int,
        n_samples: int = 500,
        seed: int = 0,
        progress: Progress | None = None,
    ) -> ClusterProduct:
        """K-means of the AOI (else the view) fitted on ``n_samples`` random valid pixels."""

    def classes(
        self,
        year: int,
        points: Sequence[tuple[float, float]],
        targets: Sequence[int],
        n_classes: int,
        aoi: AOI | None,
        view: MapView | None,
        method: str = "auto",
        seed: int = 0,
        progress: Progress | None = None,
    ) -> ClassProduct:
        """Train on the labelled ``points`` (class indices ``targets``) and classify the AOI (else the view)."""
        raise NotImplementedError(f"{type(self).__name__} does not classify")


def training_data(
    source: EmbeddingSource, year: int, points: Sequence[tuple[float, float]], targets: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(vectors, targets, lonlat, dropped) of the labels that have an embedding in ``year`` (one sample request).

    A label where the year has no data is left out and counted, never trained on as if it were data.
    """
    lonlat = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    targets = np.asarray(targets, dtype=np.int64)
    if len(lonlat) != len(targets):
        raise ValueError(f"{len(lonlat)} points but {len(targets)} targets")
    vectors = source.sample([tuple(p) for p in lonlat], year) if len(lonlat) else np.empty((0, 64), np.float32)
    valid = np.isfinite(vectors).all(axis=1) & (vectors != 0).any(axis=1)
    return vectors[valid], targets[valid], lonlat[valid], int((~valid).sum())
