"""Two years of the view side by side, on a map of their own (so no layer kind on the main map)."""

from __future__ import annotations

from .declare import Family, Node

PRODUCT = Node("side by side", ("source", "rgb_style", "view"))

SIDE_BY_SIDE = Family("side by side", nodes=(PRODUCT,))
