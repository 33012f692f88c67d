"""Change between two years (1 - cosine), with the pixels changed at least a threshold and their area."""

from __future__ import annotations

from .threshold import threshold_family

CHANGE = threshold_family(
    "change",
    ("source", "change_years", "aoi"),
    threshold="change_threshold",
    values=("change layer", "Change", "change"),
    above=("changed layer", "Changed pixels", "changed"),
    area="changed area",
)
