"""The offline Earth Engine engine, defined once for the engine tests (``ee_offline`` and ``network`` come from
``tests.earthengine_offline``: ``ee`` initialised with the real algorithm signatures, no credentials, and every
network call refused unless a test answers it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from aef_widgets.engines.earthengine import EarthEngineEngine
from aef_widgets.sources.earthengine import EarthEngineSource


@pytest.fixture
def make_ee_engine(ee_offline: None) -> Callable[..., EarthEngineEngine]:
    """An Earth Engine engine on the annual collection, over ``years`` when given (else the source's default)."""

    def make(years: Sequence[int] | None = None) -> EarthEngineEngine:
        return EarthEngineEngine(EarthEngineSource() if years is None else EarthEngineSource(years=years))

    return make


@pytest.fixture
def engine(make_ee_engine: Callable[..., EarthEngineEngine]) -> EarthEngineEngine:
    """The Earth Engine engine of the default source (a test module may define its own ``engine``)."""
    return make_ee_engine()
