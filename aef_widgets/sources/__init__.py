"""Where embeddings come from: GeoTIFF files (local or remote), the public COG release, the bundled sample,
Earth Engine."""

from .base import ATTRIBUTION, EmbeddingSource
from .earthengine import EarthEngineSource
from .geotiff import GeoTIFFSource, open_source
from .release import ReleaseSource, open_release

__all__ = [
    "ATTRIBUTION",
    "EarthEngineSource",
    "EmbeddingSource",
    "GeoTIFFSource",
    "ReleaseSource",
    "open_release",
    "open_source",
]
