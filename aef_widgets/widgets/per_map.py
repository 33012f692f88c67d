"""PerMap: helpers of which a map has exactly one (its layer stack, its draw tool), made on first use and dropped
with the map, so panels built separately around one map share them without being handed them.

A helper holds its map weakly: the registry is keyed weakly by the map, and a value holding its key strongly would
keep every map (and all its layers and widgets) alive for the life of the process."""

from __future__ import annotations

import weakref
from typing import ClassVar, TypeVar

import ipyleaflet

_T = TypeVar("_T", bound="PerMap")
_KINDS: list[type[PerMap]] = []


class PerMap:
    """Base of a per-map helper: ``Helper.of(m)`` is the one instance for ``m``; subclasses take the map first."""

    _of_map: ClassVar[weakref.WeakKeyDictionary]

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls._of_map = weakref.WeakKeyDictionary()  # one registry per kind of helper
        _KINDS.append(cls)

    def __init__(self, m: ipyleaflet.Map) -> None:
        self._map = weakref.ref(m)

    @property
    def map(self) -> ipyleaflet.Map:
        """The helper's map (alive as long as someone uses it: whoever holds a helper holds its map too)."""
        m = self._map()
        if m is None:
            raise ReferenceError("this helper's map is gone")
        return m

    def map_if_alive(self) -> ipyleaflet.Map | None:
        """The helper's map, or None once it is gone: when a process ends, ipywidgets closes what is left in any
        order, and a panel's close may come after its map's; a gone map has nothing left on it to detach."""
        return self._map()

    def close(self) -> None:
        """Close what the helper made (its map is closing)."""

    @staticmethod
    def forget(m: ipyleaflet.Map) -> None:
        """Close and drop every helper of ``m``: its owner is closing it."""
        for kind in _KINDS:
            helper = kind._of_map.pop(m, None)
            if helper is not None:
                helper.close()

    @classmethod
    def of(cls: type[_T], m: ipyleaflet.Map) -> _T:
        """The one helper of this kind for ``m``."""
        helper = cls._of_map.get(m)
        if helper is None:
            helper = cls._of_map[m] = cls(m)
        return helper
