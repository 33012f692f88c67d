"""Engines compute products from a source: in-process (numpy) or server-side (Earth Engine)."""

from __future__ import annotations

from concurrent.futures import Executor

from ..sources.base import EmbeddingSource
from ..sources.earthengine import EarthEngineSource
from .base import AreaSummary, ChangeProduct, ClusterProduct, Engine, Product, SimilarityProduct, Tiles
from .earthengine import EarthEngineEngine
from .earthengine_temporal import EETemporal
from .local import LocalEngine
from .local_temporal import LocalTemporal


def engine_for(source: EmbeddingSource, executor: Executor | None = None) -> Engine:
    """The engine that computes products for this source: server-side for Earth Engine, else in-process (with
    whole-AOI work on ``executor`` when given, a Dask cluster's for example)."""
    if isinstance(source, EarthEngineSource):
        return EarthEngineEngine(source)
    return LocalEngine(source, executor=executor)


def temporal_for(engine: Engine) -> EETemporal | LocalTemporal:
    """The products over every year of an engine's source, on the same engine (charts, when it changed)."""
    if isinstance(engine, EarthEngineEngine):
        return EETemporal.of(engine)
    return LocalTemporal.of(engine.source)


__all__ = [
    "AreaSummary",
    "ChangeProduct",
    "ClusterProduct",
    "EETemporal",
    "EarthEngineEngine",
    "Engine",
    "LocalEngine",
    "LocalTemporal",
    "Product",
    "SimilarityProduct",
    "Tiles",
    "engine_for",
    "temporal_for",
]
