"""What every panel shares: the state and its flow, a map it may draw on, background jobs, a status line."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable

import ipyleaflet
from ipywidgets import HTML, Layout, ValueWidget, VBox
from traitlets import Any, HasTraits, TraitError, link

from ..core.errors import AEFError
from ..rendering.view import MapView
from ..sources.base import EmbeddingSource
from .draw_tool import DrawTool
from .flow import Flow
from .jobs import JobRunner
from .layer_stack import LayerSlot, LayerStack
from .lifecycle import close_widget
from .map_view import view_of
from .nodes import KEEP, VIEW_DEBOUNCE_S, Computed, ProductLayer  # noqa: F401  (where panels have them from)
from .state import ExplorerState

log = logging.getLogger(__name__)
_STATUS_COLORS = {"info": "#555", "busy": "#555", "ok": "#1b7f3b", "error": "#b00020"}


def error_message(error: BaseException) -> str:
    """Words for a user: our own errors say what to do; anything else is logged, not shown raw."""
    if isinstance(error, (AEFError, TraitError)):
        return str(error)
    log.error("unexpected error in a widget", exc_info=error)
    return "Something went wrong here; the details are in the log."


class Panel(VBox, ValueWidget):
    """Base of every widget: ``value``, a shared ``state``, an optional ``map``, a status line."""

    value = Any()

    def __init__(
        self,
        state: ExplorerState | None = None,
        *,
        source: EmbeddingSource | None = None,
        map: ipyleaflet.Map | None = None,
        runner: JobRunner | None = None,
        status: HTML | None = None,
        **kwargs,
    ) -> None:
        unknown = sorted(set(kwargs) - set(self.trait_names()))
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s): {', '.join(unknown)}")
        if state is not None and source is not None and state.source is not source:
            raise TypeError("give either a state or a source, not both")
        self.state = state if state is not None else ExplorerState(source)
        self.flow = Flow.of(self.state)
        self.map = map
        self.runner = runner if runner is not None else JobRunner()
        if status is None:  # a part given its owner's status line speaks there
            status = HTML(layout=Layout(min_height="1.4em"))
            status.add_class("aef-status")
        self.status = status
        #: What ``close`` undoes: observers of the state, flow subscriptions, map handlers, running work.
        self._detach: list[Callable[[], None]] = []
        self._map_handlers: list[Callable[..., None]] = []
        self._dispatched = False  # True once an app sends the map's events (``dispatch_map_events``)
        super().__init__(**kwargs)
        if map is not None:
            self.flow.track(map, view_of)

    def bind(self, control, name: str) -> None:
        """Keep ``control.value`` and ``state.<name>`` equal; a value the state refuses is explained, not raised."""
        control.value = getattr(self.state, name)

        def to_state(change) -> None:
            try:
                setattr(self.state, name, change["new"])
            except TraitError as e:
                self.show_error(e)
                control.value = getattr(self.state, name)

        control.observe(to_state, names="value")
        self.listen(self.state, lambda change: setattr(control, "value", change["new"]), name)

    def link_value(self, name: str) -> None:
        """Keep ``value`` and ``state.<name>`` equal both ways (a traitlets link), until ``close``."""
        self._detach.append(link((self.state, name), (self, "value")).unlink)

    def listen(self, obj: HasTraits, handler: Callable[[dict], None], names: str | list[str]) -> None:
        """``obj.observe(handler, names)``, undone by ``close``: how a panel watches what outlives it (the state)."""
        obj.observe(handler, names=names)
        self._detach.append(lambda: obj.unobserve(handler, names=names))

    def on_map_interaction(self, handler: Callable[..., None]) -> None:
        """Handle the map's clicks and moves until ``close``: from the map, or from the app that took them
        (``dispatch_map_events``)."""
        if self.map is not None:
            m = self.map
            self._map_handlers.append(handler)
            if not self._dispatched:
                m.on_interaction(handler)

            def off() -> None:
                m.on_interaction(handler, remove=True)  # nothing happens if the app took it off the map
                self._map_handlers.remove(handler)

            self._detach.append(off)

    def dispatch_map_events(self) -> Callable[..., None] | None:
        """Take the panel's handlers off the map and return what calls them (None: it handles no event). An app
        showing panels in tabs (the Explorer) sends a click only to the open tab's panels, so the others' handlers
        never run; a panel used alone keeps the map's events coming straight to it."""
        if self.map is None or not self._map_handlers:
            return None
        for handler in self._map_handlers:
            self.map.on_interaction(handler, remove=True)
        self._dispatched = True
        return self._send_map_event

    def _send_map_event(self, **event) -> None:
        for handler in list(self._map_handlers):
            handler(**event)

    def layer_slot(self, name: str, kind: str, attribution: str = "") -> LayerSlot | None:
        """A place for one layer on the map (None without a map), taken off the map with its layer by ``close``."""
        if self.map is None:
            return None
        slot = LayerStack.of(self.map).slot(name, kind, attribution)
        self._detach.append(slot.close)
        return slot

    def use_draw_tool(self, name: str, on_shape: Callable[[dict], None], words: Callable[[], str]) -> None:
        """Get the shapes drawn on the map while ``name`` has its draw tool (see ``DrawTool``), until ``close``."""
        if self.map is not None:
            tool = DrawTool.of(self.map)
            tool.register(name, on_shape, words)
            self._detach.append(lambda: tool.unregister(name))

    def close(self) -> None:
        """Detach every observer, flow subscription, map handler, layer and draw tool registration the panel made,
        drop its pending work, and close its widgets: a closed panel never reacts again, leaves the map as it was
        before it, and nothing it made keeps it alive."""
        detach = getattr(self, "_detach", [])  # absent if ``__init__`` refused its arguments
        while detach:
            detach.pop()()
        close_widget(self)

    def layer_stack(self) -> LayerStack | None:
        return LayerStack.of(self.map) if self.map is not None else None

    def current_view(self) -> MapView | None:
        """The view products are drawn for: the state's, else the map's."""
        if self.state.view is not None:
            return self.state.view
        return view_of(self.map) if self.map is not None else None

    def show_status(self, message: str, kind: str = "info") -> None:
        color = _STATUS_COLORS[kind]
        self.status.value = f'<span style="color:{color}">{html.escape(message)}</span>' if message else ""

    def show_error(self, error: BaseException) -> None:
        self.show_status(error_message(error), "error")
