"""PerMap: helpers of which a map has exactly one (its layer stack, its draw tool), made on first use and dropped
with the map, so panels built separately around one map share them without being handed them."""

from __future__ import annotations

import weakref
from typing import ClassVar, TypeVar

import ipyleaflet

_T = TypeVar("_T", bound="PerMap")


class PerMap:
    """Base of a per-map helper: ``Helper.of(m)`` is the one instance for ``m``; subclasses take the map first."""

    _of_map: ClassVar[weakref.WeakKeyDictionary]

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls._of_map = weakref.WeakKeyDictionary()  # one registry per kind of helper

    def __init__(self, m: ipyleaflet.Map) -> None:
        self.map = m

    @classmethod
    def of(cls: type[_T], m: ipyleaflet.Map) -> _T:
        """The one helper of this kind for ``m``."""
        helper = cls._of_map.get(m)
        if helper is None:
            helper = cls._of_map[m] = cls(m)
        return helper
