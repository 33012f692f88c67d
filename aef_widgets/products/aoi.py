"""The area of interest: its outline on the map, and what it holds (pixels, area) measured in the background."""

from __future__ import annotations

from .declare import Family, Kind, Node

SUMMARY = Node("aoi summary", ("source", "aoi"))
OUTLINE = Kind("aoi", "aoi")

AOI = Family("aoi", nodes=(SUMMARY,), kinds=(OUTLINE,))
