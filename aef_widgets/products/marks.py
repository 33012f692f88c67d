"""What the user places or is asked to look at, drawn above every product: probe and label markers, suggestions.

They move with no product: the layer stack keeps them on top (with the AOI outline, ``aoi.OUTLINE``)."""

from __future__ import annotations

from .declare import Family, Kind

PROBES = Kind("probes", "probes")
SUGGESTIONS = Kind("suggestions", "probes")

MARKS = Family("probes", kinds=(PROBES, SUGGESTIONS))
