"""Engines compute products from a source: in-process (numpy) or server-side (Earth Engine)."""

from __future__ import annotations

from concurrent.futures import Executor

from ..sources.base import EmbeddingSource
from ..sources.earthengine import EarthEngineSource
from .base import AreaSummary, ChangeProduct, ClusterProduct, Engine, Product, SimilarityProduct, Tiles
from .earthengine import EarthEngineEngine
from .local import LocalEngine


def engine_for(source: EmbeddingSource, executor: Executor | None = None) -> Engine:
    """The engine that computes products for this source: server-side for Earth Engine, else in-process (with
    whole-AOI work on ``executor`` when given, a Dask cluster's for example)."""
    if isinstance(source, EarthEngineSource):
        return EarthEngineEngine(source)
    return LocalEngine(source, executor=executor)


__all__ = [
    "AreaSummary",
    "ChangeProduct",
    "ClusterProduct",
    "EarthEngineEngine",
    "Engine",
    "LocalEngine",
    "Product",
    "SimilarityProduct",
    "Tiles",
    "engine_for",
]
