"""What the user places or is asked to look at, drawn above every product: the matches of a region search, probe
and label markers, suggestions.

They move with no product: the layer stack keeps them on top (with the AOI outline, ``aoi.OUTLINE``); the probe's
own markers stay above the matches found for them."""

from __future__ import annotations

from .declare import Family, Kind

SEARCH_MATCHES = Kind("search matches", "probes")
PROBES = Kind("probes", "probes")
SUGGESTIONS = Kind("suggestions", "probes")

MARKS = Family("probes", kinds=(SEARCH_MATCHES, PROBES, SUGGESTIONS))
