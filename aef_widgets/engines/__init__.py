"""Engines compute products from a source: in-process (numpy) or server-side (Earth Engine)."""

from __future__ import annotations

import sys
from concurrent.futures import Executor
from typing import TYPE_CHECKING

from ..core.lazy import lazy_exports
from ..sources.base import EmbeddingSource
from .base import Engine

if TYPE_CHECKING:
    from .base import AreaSummary, ChangeProduct, ClusterProduct, Product, SimilarityProduct, Tiles
    from .earthengine import EarthEngineEngine
    from .earthengine_temporal import EETemporal
    from .local import LocalEngine
    from .local_temporal import LocalTemporal

__getattr__, __dir__ = lazy_exports(__name__, __file__)


def engine_for(source: EmbeddingSource, executor: Executor | None = None) -> Engine:
    """The engine that computes products for this source: server-side for Earth Engine, else in-process (with
    whole-AOI work on ``executor`` when given, a Dask cluster's for example)."""
    # a source can only be an EarthEngineSource once its module is loaded: asking needs no Earth Engine import
    ee_sources = sys.modules.get("aef_widgets.sources.earthengine")
    if ee_sources is not None and isinstance(source, ee_sources.EarthEngineSource):
        from .earthengine import EarthEngineEngine

        return EarthEngineEngine(source)
    from .local import LocalEngine

    return LocalEngine(source, executor=executor)


def temporal_for(engine: Engine) -> EETemporal | LocalTemporal:
    """The products over every year of an engine's source, on the same engine (charts, when it changed)."""
    if type(engine).__name__ == "EarthEngineEngine":  # an Earth Engine engine: its module is loaded already
        from .earthengine_temporal import EETemporal

        return EETemporal.of(engine)
    from .local_temporal import LocalTemporal

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
