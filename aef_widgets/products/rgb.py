"""The colour composite of a year: three bands or principal components, drawn for the view."""

from __future__ import annotations

from .declare import Draw, Family, Kind, Node

PRODUCT = Node("rgb", ("source", "year", "rgb_style"))
LAYER = Draw(Node("rgb layer", (PRODUCT, "view")), "RGB composite", Kind("rgb", "rgb"))

RGB = Family("rgb", nodes=(PRODUCT, LAYER.node), kinds=(LAYER.kind,))
