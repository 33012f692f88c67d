"""The words product families are declared in: nodes with named inputs, layer kinds, layers, families.

A ``Node`` is one product (or one thing drawn from a product) that the flow keeps up to date. Its ``inputs`` are
named, as plopp's nodes name their parents: each is a trait of ``ExplorerState`` or a node declared before it, and
the node's *key* is the current value of each, read by name (``key["aoi"]``). A ``Kind`` is a kind of map layer:
the family the layer stack moves it with, its opacity when first shown, and whether it is categorical (drawn
pixelated, never smoothed). A ``Draw`` is one layer a family shows: the node that draws it, its title on the map,
its kind. A ``Family`` groups the nodes, kinds and state traits of one product family.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Node:
    """One product the flow keeps current: its name and the names of what it is computed from, in key order.

    ``inputs`` may name traits of the state or earlier nodes; a ``Node`` given as an input stands for its name, so
    a family can write ``Node("clusters layer", (CLUSTERS_PRODUCT, "view"))``."""

    name: str
    inputs: tuple[str, ...]

    def __init__(self, name: str, inputs: Iterable[str | Node]) -> None:
        names = tuple(x.name if isinstance(x, Node) else x for x in inputs)
        if not name or not all(isinstance(x, str) and x for x in names):
            raise TypeError(f"node {name!r}: inputs are names of state traits or nodes, got {inputs!r}")
        if len(set(names)) != len(names):
            raise ValueError(f"node {name!r} names an input twice: {names}")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "inputs", names)


@dataclass(frozen=True)
class Kind:
    """A kind of map layer: the family the layer stack moves it with, how opaque it starts, whether categorical."""

    name: str
    family: str
    #: Opacity when first shown (highlights above a threshold start half-transparent, so the map under them reads).
    opacity: float = 1.0
    #: Categorical (classes, clusters): drawn pixelated, never smoothed between classes.
    crisp: bool = False


@dataclass(frozen=True)
class Draw:
    """One layer a family shows: the node that draws it, its title on the map, and its kind."""

    node: Node
    title: str
    kind: Kind

    @property
    def name(self) -> str:
        """The name of the layer's node in the flow."""
        return self.node.name


@dataclass(frozen=True)
class Family:
    """The nodes, layer kinds and state traits of one product family, in the order they are declared."""

    name: str
    nodes: tuple[Node, ...] = ()
    kinds: tuple[Kind, ...] = ()
    #: State traits the family adds to ``ExplorerState`` (name -> traitlets trait), e.g. its threshold.
    traits: Mapping[str, Any] = field(default_factory=dict)

    def node(self, name: str) -> Node:
        """The family's node of that name."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"family {self.name!r} has no node {name!r}; it has {', '.join(n.name for n in self.nodes)}")

    def kind(self, name: str) -> Kind:
        """The family's layer kind of that name."""
        for kind in self.kinds:
            if kind.name == name:
                return kind
        raise KeyError(f"family {self.name!r} has no kind {name!r}; it has {', '.join(k.name for k in self.kinds)}")
