"""Closing a widget with everything it is made of, so that nothing of a closed panel or Explorer stays open.

ipywidgets' ``Widget.close`` closes one widget: a box's children, every widget's layout and style, a map's layers
and controls, a chart's marks and scales stay open, each held by the kernel's registry of widgets
(``Widget.widgets``) for the life of the process. ``close_widget`` closes a widget and every widget it holds in
its synced traits (what the browser is told it is made of), the way down. A widget that closes itself with more
to undo (a panel, the layer list) is closed by its own ``close``.

Widgets shared on purpose by every instance of a module (a module-level ``Layout``) are marked with
``shared_widget`` and never closed: the next panel built still uses them.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator
from typing import TypeVar

from ipywidgets import Widget

_W = TypeVar("_W", bound=Widget)
_shared: weakref.WeakSet[Widget] = weakref.WeakSet()


def shared_widget(widget: _W) -> _W:
    """Mark a module-level widget (a layout given to many widgets) as shared: ``close_widget`` leaves it open."""
    _shared.add(widget)
    return widget


def close_widget(widget: Widget, keep: Iterable[Widget] = ()) -> None:
    """Close ``widget`` and every widget held in its synced traits, the way down, except shared ones and those in
    ``keep`` (with what they hold). Widgets on the way down are closed by their own ``close`` (a panel detaches
    what it made); closing twice is harmless."""
    seen = {id(widget), *(id(w) for w in keep)}
    pending = list(_held(widget))
    Widget.close(widget)  # not ``widget.close()``: this is what a subclass's ``close`` ends with
    while pending:
        part = pending.pop()
        if id(part) in seen or part in _shared:
            continue
        seen.add(id(part))
        pending.extend(_held(part))
        part.close()


def _held(widget: Widget) -> Iterator[Widget]:
    """The widgets in ``widget``'s synced traits: children, layout, style, layers, controls, marks, ..."""
    for name in widget.keys:
        value = getattr(widget, name, None)
        values = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else [value]
        yield from (v for v in values if isinstance(v, Widget))
