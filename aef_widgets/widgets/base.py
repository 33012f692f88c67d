"""What every panel shares: the state and its flow, a map it may draw on, background jobs, a status line."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from typing import Any as AnyType

import ipyleaflet
from ipywidgets import HTML, Layout, ValueWidget, VBox
from traitlets import Any, HasTraits, TraitError, link

from ..core.errors import AEFError
from ..rendering.view import MapView
from ..sources.base import EmbeddingSource
from .draw_tool import DrawTool
from .flow import Flow, Key
from .jobs import Job, JobRunner
from .layer_stack import LayerSlot, LayerStack
from .lifecycle import close_widget
from .map_view import view_of
from .state import ExplorerState

log = logging.getLogger(__name__)
#: Delay before redrawing after the view moves, so a pan or zoom burst costs one redraw.
VIEW_DEBOUNCE_S = 0.15
_STATUS_COLORS = {"info": "#555", "busy": "#555", "ok": "#1b7f3b", "error": "#b00020"}
#: What ``prepare`` returns to leave what is shown as it is.
KEEP = object()


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
        self.status = HTML(layout=Layout(min_height="1.4em"))
        self.status.add_class("aef-status")
        #: What ``close`` undoes: observers of the state, flow subscriptions, map handlers, running work.
        self._detach: list[Callable[[], None]] = []
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
        """Handle the map's clicks and moves until ``close``."""
        if self.map is not None:
            m = self.map
            m.on_interaction(handler)
            self._detach.append(lambda: m.on_interaction(handler, remove=True))

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


class Computed:
    """One node of the flow, computed by a panel in the background and shown only while its key still holds.

    ``prepare`` runs on the kernel's loop and reads the state: it returns the work (``work(job) -> result``), None
    to show nothing, or ``KEEP`` to leave what is shown. ``show`` gets the result (or None) on the loop.
    """

    def __init__(
        self,
        panel: Panel,
        node: str,
        prepare: Callable[[], AnyType],
        show: Callable[[AnyType], None],
        *,
        label: str = "",
        key: Callable[[], Key] | None = None,
        progress: Callable[[float, str], None] | None = None,
        delay: Callable[[], float] | None = None,
        fail: Callable[[BaseException], None] | None = None,
        heavy: bool = False,
    ) -> None:
        self.panel, self.node, self.prepare, self.show_result = panel, node, prepare, show
        self.delay_of = delay or (lambda: 0.0)
        self.fail = fail or panel.show_error
        self.heavy = heavy
        self._error_shown: str | None = None
        self.label, self.progress = label, progress
        self.key_of = key or (lambda: panel.flow.key(node))
        self.channel = f"{node}-{id(self)}"
        self.key: Key | None = None
        #: How many times the work really ran: one user action must never run it twice.
        self.computations = 0
        panel._detach.append(panel.flow.on(node, self.update))
        panel._detach.append(self.cancel)  # a result that comes back after ``close`` is dropped

    def update(self, force: bool = False) -> None:
        """Recompute if the key moved (or ``force``); a result for an older key is dropped."""
        key = self.key_of()
        if key == self.key and not force:
            return
        delay = self.delay_of()
        work = self.prepare()
        if work is KEEP:
            return
        self.key = key
        if work is None:
            self.panel.runner.cancel(self.channel)
            self.show_result(None)
            return

        def run(job: Job) -> AnyType:
            self.computations += 1
            return work(job)

        self.panel.runner.submit(
            self.channel, run, lambda result: self._done(key, result), self._failed, delay,
            label=self.label, progress=self.progress, heavy=self.heavy,
        )  # fmt: skip

    def cancel(self) -> None:
        """Stop what is computing; show nothing."""
        self.key = None
        self.panel.runner.cancel(self.channel)

    @property
    def current(self) -> bool:
        return self.key is not None and self.key == self.key_of()

    def _done(self, key: tuple, result: AnyType) -> None:
        if key != self.key_of():  # the state moved on while this was computed
            return
        if self._error_shown is not None and self.panel.status.value == self._error_shown:
            self.panel.show_status("")  # this node's error is over; other messages stay
        self._error_shown = None
        self.show_result(result)

    def _failed(self, error: BaseException) -> None:
        self.key = None  # the same request may be tried again
        self.fail(error)
        self._error_shown = self.panel.status.value


class ProductLayer:
    """A layer node of the flow: one product drawn for the view, in the background, while the product is current.

    With ``preview``, the product's coarse ``preview`` of a view (a remote source's overview) is shown first, then
    replaced by the full layer; a preview is shown only while its view and product are still the current ones.
    """

    def __init__(
        self, panel: Panel, node: str, product: str, name: str, kind: str,
        draw: Callable[[AnyType, AnyType, MapView], AnyType] | None = None, delay: float = VIEW_DEBOUNCE_S,
        preview: bool = False,
    ) -> None:  # fmt: skip
        self.panel, self.name, self.product_node, self.delay, self.preview = panel, node, product, delay, preview
        self._drawn = None  # the product last drawn: a new one is drawn at once, a moved view after a pause
        self.slot = panel.layer_slot(name, kind, panel.state.source.attribution)
        # draw(product, ctx, view): the engine's reader context is given to the product, which keeps none
        self.draw = draw or (lambda product, ctx, view: product.layer(ctx, view))
        self.node = Computed(panel, node, self._prepare, self._show, key=self._key, delay=self._delay)

    def _key(self) -> tuple:
        product = self.panel.flow.values.get(self.product_node)
        key = self.panel.flow.key(self.name)
        # tiles follow the view by themselves: their layer does not depend on it
        return key if product is None or product.view_dependent else key.without("view")

    def _prepare(self):
        flow = self.panel.flow
        product, view = flow.values.get(self.product_node), self.panel.current_view()
        if self.slot is None:
            return KEEP
        if product is None or view is None:
            return None
        if not flow.is_current(self.product_node):
            return KEEP  # its product is being recomputed: the new one will be drawn when it comes
        self.slot.attribution = self.panel.state.source.attribution
        self._drawn = product
        ctx = self.panel.state.engine.context  # the product is current, so computed by this engine
        if not self.preview:
            return lambda job: self.draw(product, ctx, view)

        def draw(job: Job) -> AnyType:
            coarse = product.preview(ctx, view)
            if coarse is not None:
                job.show_early(lambda: self.node.current and self._show(coarse))
                job.check()  # the view moved meanwhile: its full read is not wanted either
            return self.draw(product, ctx, view)

        return draw

    def _delay(self) -> float:
        return 0.0 if self.panel.flow.values.get(self.product_node) is not self._drawn else self.delay

    def _show(self, layer) -> None:
        if self.slot is not None:
            self.slot.show(layer)
