"""Where embeddings come from: GeoTIFF files (local or remote), the public COG release, the bundled sample,
Earth Engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.lazy import lazy_exports

if TYPE_CHECKING:
    from .base import ATTRIBUTION, EmbeddingSource
    from .earthengine import EarthEngineSource
    from .geotiff import GeoTIFFSource
    from .open import open_source
    from .release import ReleaseSource, open_release

__getattr__, __dir__ = lazy_exports(__name__, __file__)

__all__ = [
    "ATTRIBUTION",
    "EarthEngineSource",
    "EmbeddingSource",
    "GeoTIFFSource",
    "ReleaseSource",
    "open_release",
    "open_source",
]
