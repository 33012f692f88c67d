"""What recomputes when the shared state changes: one graph, read in one place.

``GRAPH`` names every product the widgets show and what it is computed from: traits of ``ExplorerState`` or other
products, as the product families declare them (``aef_widgets.products``). A node's *key* is the current value of
its inputs. When an input changes, the ``Flow`` asks each node that depends on it to update; a node whose key equals
the key of what it shows (or is computing) does nothing, so one user action, which may change several traits at
once, computes each product at most once. A result is shown only if the state still has the key it was computed for:
nothing computed for an older year, AOI or source is ever shown. Products computed in the background come back on
the kernel's loop and ``Flow.set`` passes them on to the nodes that depend on them, and records the key they were
computed for (``Flow.keys``): the flow, not the product, knows what a product was made of. Keys are read by name
(``key["aoi"]``, ``key.without("view")``), never by position.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from traitlets import HasTraits

from ..products.registry import graph

#: node: its inputs, traits of the state or other nodes, from the families' declarations (``products.registry``).
#: Products are computed in the background; layers, areas and readouts are drawn from a product for what the map
#: shows.
GRAPH: dict[str, tuple[str, ...]] = graph()
#: What a map's view is made of: the flow follows these traits of a tracked map.
_VIEW_TRAITS = ["bounds", "pixel_bounds", "zoom", "center"]


@dataclass(frozen=True)
class Key:
    """What a node's product is (or would be) computed for: the values of its inputs, by name.

    Two keys are equal when they name the same inputs with equal values. A panel may add values of its own
    (``plus``) or drop inputs its result does not depend on (``without``)."""

    items: tuple[tuple[str, Any], ...]

    def __getitem__(self, name: str) -> Any:
        for key, value in self.items:
            if key == name:
                return value
        raise KeyError(f"no input {name!r} in this key; inputs: {', '.join(k for k, _ in self.items)}")

    def without(self, *names: str) -> Key:
        """The key without these inputs (tiles follow the view by themselves, so their layer drops ``view``)."""
        return Key(tuple((k, v) for k, v in self.items if k not in names))

    def plus(self, **more: Any) -> Key:
        """The key with values of the panel's own (a checkbox, a clicked pixel) that its result also depends on."""
        return Key((*self.items, *more.items()))


class Flow:
    """The graph for one state: current products, and who updates when an input changes."""

    _flows: ClassVar[weakref.WeakKeyDictionary] = weakref.WeakKeyDictionary()

    @classmethod
    def of(cls, state: HasTraits) -> Flow:
        """The one flow of a state."""
        flow = cls._flows.get(state)
        if flow is None:
            flow = cls._flows[state] = cls(state)
        return flow

    def __init__(self, state: HasTraits) -> None:
        # weakly: ``_flows`` holds the flow as long as its state lives, so a strong reference would keep both forever
        self._state = weakref.ref(state)
        self.values: dict[str, Any] = {}
        #: The key each product in ``values`` was computed for.
        self.keys: dict[str, Key] = {}
        self._updates: dict[str, list[Callable[[], None]]] = defaultdict(list)
        self._maps: list = []  # (map, its observer)
        state.observe(lambda change: self._changed(change["name"]))

    @property
    def state(self) -> HasTraits:
        state = self._state()
        if state is None:
            raise ReferenceError("this flow's state is gone")
        return state

    def on(self, node: str, update: Callable[[], None]) -> Callable[[], None]:
        """Call ``update`` whenever an input of ``node`` changes; returns what stops it (``off``)."""
        if node not in GRAPH:
            raise ValueError(f"unknown node {node!r}; known: {', '.join(GRAPH)}")
        self._updates[node].append(update)
        return lambda: self.off(node, update)

    def off(self, node: str, update: Callable[[], None]) -> None:
        """Stop calling ``update`` for ``node`` (a closed panel's); nothing happens if it is not subscribed."""
        updates = self._updates.get(node, [])
        if update in updates:
            updates.remove(update)

    def key(self, node: str) -> Key:
        """The current value of the node's inputs: what a product computed now is computed for."""
        return Key(tuple((name, self.input(name)) for name in GRAPH[node]))

    def is_current(self, node: str) -> bool:
        """True when the node's product was computed for the state as it is now (not being recomputed)."""
        return node in self.keys and self.keys[node] == self.key(node)

    def input(self, name: str) -> Any:
        if name in GRAPH:
            return self.values.get(name)
        value = getattr(self.state, name)
        return tuple(value) if isinstance(value, list) else value

    def set(self, node: str, value: Any) -> None:
        """A product, computed for the node's current key, is now ``value`` (None: nothing): update what depends
        on it."""
        if value is None:
            self.keys.pop(node, None)
        else:  # also when the same product comes back (a memo's) for a key it was computed for again
            self.keys[node] = self.key(node)
        if self.values.get(node) is value:
            return
        self.values[node] = value
        self._changed(node)

    def track(self, m, view_of: Callable) -> None:
        """Keep the state's ``view`` equal to what map ``m`` shows (once per map)."""
        if any(x is m for x, _ in self._maps):
            return

        def update(_change=None) -> None:
            self.state.view = view_of(m)

        self._maps.append((m, update))
        m.observe(update, names=_VIEW_TRAITS)
        update()

    def untrack(self, m) -> None:
        """Stop following map ``m``: an Explorer closing lets go of a map that outlives the state it made."""
        for x, update in self._maps:
            if x is m:
                m.unobserve(update, names=_VIEW_TRAITS)
        self._maps = [(x, update) for x, update in self._maps if x is not m]

    def _changed(self, name: str) -> None:
        for node, inputs in GRAPH.items():
            if name in inputs:
                for update in list(self._updates[node]):
                    update()
