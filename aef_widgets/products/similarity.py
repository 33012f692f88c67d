"""Similarity to clicked reference pixels (minus similarity to "not like that" ones), with matches above a
threshold and their area."""

from __future__ import annotations

from .threshold import threshold_family

SIMILARITY = threshold_family(
    "similarity",
    ("source", "year", "probe_points", "negative_points", "aoi"),
    threshold="similarity_threshold",
    values=("similarity layer", "Similarity", "similarity"),
    above=("matches layer", "Similarity matches", "matches"),
    area="matches area",
)
