"""What every thresholded family shares: a product of values per pixel, the layer of those values, the layer of
the pixels at or above a threshold (a state trait), and the area of those pixels.

``threshold_family`` declares all four nodes from the product's inputs, so a new thresholded product (an index
from embeddings, say) is one call: its name, its inputs, its threshold trait, its layer titles and kinds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .declare import Draw, Family, Kind, Node

#: Pixels above a threshold start half-transparent, so the map under them stays readable; they are drawn as a
#: mask, pixelated (crisp).
ABOVE_OPACITY = 0.6


@dataclass(frozen=True, kw_only=True)
class Thresholded(Family):
    """A thresholded family: ``product``, its ``values`` and ``above`` layers, the ``area`` above the
    ``threshold`` (the name of the state trait it is read from)."""

    product: Node
    values: Draw
    above: Draw
    area: Node
    threshold: str


def threshold_family(
    name: str,
    inputs: Iterable[str | Node],
    *,
    threshold: str,
    values: tuple[str, str, str],
    above: tuple[str, str, str],
    area: str,
    stack: str | None = None,
    traits: Mapping[str, Any] | None = None,
) -> Thresholded:
    """A product node ``name`` computed from ``inputs``, its layers and its area.

    ``values`` and ``above`` are (node name, title on the map, layer kind) of the two layers; ``area`` the name of
    the area node; ``stack`` the layer family the layer stack moves them with (the family's own name by default).
    """
    product = Node(name, inputs)
    stack = stack or name
    shown = Draw(Node(values[0], (product, "view")), values[1], Kind(values[2], stack))
    highlight = Draw(
        Node(above[0], (product, threshold, "view")), above[1], Kind(above[2], stack, ABOVE_OPACITY, crisp=True)
    )
    area_node = Node(area, (product, threshold, "view"))
    return Thresholded(
        name=name, nodes=(product, shown.node, highlight.node, area_node), kinds=(shown.kind, highlight.kind),
        traits=dict(traits or {}), product=product, values=shown, above=highlight, area=area_node,
        threshold=threshold,
    )  # fmt: skip
