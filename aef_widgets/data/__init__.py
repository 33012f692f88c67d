"""Data made here rather than read: the synthetic multi-year sample and files written like the public release.

As plopp keeps its data factory apart from its readers, the generator lives below ``sources``: it needs only
``core``, and ``sources.sample`` opens what it wrote (``sample_source``, ``sample_truth``, the per-user cache).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.lazy import lazy_exports

if TYPE_CHECKING:
    from .cog import overview_levels, write_embedding_cog, write_uint8
    from .synthetic import write_sample
    from .truth import LABEL_NODATA, SAMPLE_VERSION, PlantedEvent, SampleTruth

__getattr__, __dir__ = lazy_exports(__name__, __file__)

__all__ = [
    "LABEL_NODATA",
    "SAMPLE_VERSION",
    "PlantedEvent",
    "SampleTruth",
    "overview_levels",
    "write_embedding_cog",
    "write_sample",
    "write_uint8",
]
