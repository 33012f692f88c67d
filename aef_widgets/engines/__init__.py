"""Engines compute products from a source: in-process (numpy) or server-side (Earth Engine)."""

from __future__ import annotations

from ..sources.base import EmbeddingSource
from .base import AreaSummary, ChangeProduct, ClusterProduct, Engine, Product, SimilarityProduct, Tiles
from .local import LocalEngine


def engine_for(source: EmbeddingSource) -> Engine:
    """The engine that computes products for this source."""
    make = getattr(source, "make_engine", None)
    return make() if make is not None else LocalEngine(source)


__all__ = [
    "AreaSummary",
    "ChangeProduct",
    "ClusterProduct",
    "Engine",
    "LocalEngine",
    "Product",
    "SimilarityProduct",
    "Tiles",
    "engine_for",
]
