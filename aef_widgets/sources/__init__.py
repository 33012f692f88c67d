"""Where embeddings come from: GeoTIFF files (local or remote), the bundled sample, Earth Engine."""

from .base import ATTRIBUTION, EmbeddingSource
from .earthengine import EarthEngineSource
from .geotiff import GeoTIFFSource, open_source

__all__ = ["ATTRIBUTION", "EarthEngineSource", "EmbeddingSource", "GeoTIFFSource", "open_source"]
