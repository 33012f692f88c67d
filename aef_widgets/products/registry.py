"""Every product family, and what is built from them: the flow's graph, the layer stack's kinds, the state's
traits. Checked at import: every input names a state trait or a node declared before it, and names are unique.

``FAMILIES`` is in flow order (the order nodes are updated in when an input changes); ``STACKING`` lists the
families whose layers are on the main map, bottom first: the map's starting order (a family the user asks for
later goes on top of the other results, see ``widgets.layer_stack``).
"""

from __future__ import annotations

import copy
from typing import Any

from traitlets import HasTraits

from .aoi import AOI
from .change import CHANGE
from .classes import CLASSES
from .clusters import CLUSTERS
from .declare import Family, Kind, Node
from .fields import FIELDS
from .index import INDEX
from .marks import MARKS
from .rgb import RGB
from .side_by_side import SIDE_BY_SIDE
from .similarity import SIMILARITY
from .time import TIME

FAMILIES: tuple[Family, ...] = (
    RGB, AOI, CLUSTERS, SIMILARITY, CHANGE, TIME, SIDE_BY_SIDE, CLASSES, INDEX, FIELDS, MARKS,
)  # fmt: skip
STACKING: tuple[Family, ...] = (RGB, CHANGE, CLUSTERS, CLASSES, FIELDS, SIMILARITY, TIME, INDEX, AOI, MARKS)

#: Inputs that are not product traits of a family but of the state itself (``widgets.state.ExplorerState``).
STATE_TRAITS = frozenset({
    "source", "year", "rgb_style", "aoi", "probe_points", "negative_points", "similarity_threshold", "change_years",
    "change_threshold", "anomaly_threshold", "n_clusters", "n_samples", "label_classes", "class_labels",
    "cv_block_size", "view",
})  # fmt: skip


class DeclarationError(ValueError):
    """The product declarations disagree: an input names nothing declared, or a name is declared twice."""


def check(families: tuple[Family, ...], stacking: tuple[Family, ...], traits: frozenset[str]) -> None:
    """Raise ``DeclarationError`` unless every node's inputs name a state trait (``traits`` or a family's own)
    or a node declared before it, node and kind names are unique, and ``stacking`` holds every family with kinds."""
    known_traits = set(traits).union(*(f.traits for f in families))
    nodes: dict[str, str] = {}
    for family in families:
        for node in family.nodes:
            if node.name in nodes:
                raise DeclarationError(f"node {node.name!r} is declared by {nodes[node.name]!r} and {family.name!r}")
            for name in node.inputs:
                if name not in known_traits and name not in nodes:
                    later = " (it is declared later: declare it first)" if _declares(families, name) else ""
                    raise DeclarationError(
                        f"node {node.name!r} of family {family.name!r} names input {name!r}, which is neither a "
                        f"state trait nor a node declared before it{later}"
                    )
            nodes[node.name] = family.name
    kinds = [k.name for f in families for k in f.kinds]
    twice = sorted({k for k in kinds if kinds.count(k) > 1})
    if twice:
        raise DeclarationError(f"layer kinds declared twice: {', '.join(twice)}")
    with_kinds = {f.name for f in families if f.kinds}
    stacked = [f.name for f in stacking]
    if set(stacked) != with_kinds or len(stacked) != len(set(stacked)):
        raise DeclarationError(
            f"STACKING must list each family with layer kinds once: missing {sorted(with_kinds - set(stacked))}, "
            f"not declared {sorted(set(stacked) - with_kinds)}"
        )


def _declares(families: tuple[Family, ...], name: str) -> bool:
    return any(node.name == name for f in families for node in f.nodes)


def graph(families: tuple[Family, ...] = FAMILIES) -> dict[str, tuple[str, ...]]:
    """Every node and its inputs' names, in flow order."""
    return {node.name: node.inputs for family in families for node in family.nodes}


def nodes(families: tuple[Family, ...] = FAMILIES) -> dict[str, Node]:
    """Every node by name."""
    return {node.name: node for family in families for node in family.nodes}


def kinds(stacking: tuple[Family, ...] = STACKING) -> dict[str, Kind]:
    """Every layer kind by name, bottom to top."""
    return {kind.name: kind for family in stacking for kind in family.kinds}


def layer_kinds(stacking: tuple[Family, ...] = STACKING) -> dict[str, str]:
    """Layer kind -> the family the layer stack moves it with, bottom to top (the starting order)."""
    return {name: kind.family for name, kind in kinds(stacking).items()}


def start_opacity(stacking: tuple[Family, ...] = STACKING) -> dict[str, float]:
    """The opacity of each layer kind that does not start opaque."""
    return {name: kind.opacity for name, kind in kinds(stacking).items() if kind.opacity != 1.0}


def state_traits(families: tuple[Family, ...] = FAMILIES) -> dict[str, Any]:
    """The state traits the families add (name -> trait), for ``ExplorerState``."""
    return {name: trait for family in families for name, trait in family.traits.items()}


def state_class(families: tuple[Family, ...] = FAMILIES) -> type[HasTraits]:
    """A ``HasTraits`` base holding the families' own state traits (copies: a trait belongs to one class):
    ``ExplorerState`` derives from it."""
    return type("FamilyTraits", (HasTraits,), {n: copy.copy(t) for n, t in state_traits(families).items()})


check(FAMILIES, STACKING, STATE_TRAITS)
