"""What every panel shares: the state it links to, a map it may draw on, background jobs, a status line."""

from __future__ import annotations

import html
import logging

import ipyleaflet
from ipywidgets import HTML, Layout, ValueWidget, VBox
from traitlets import Any, TraitError

from ..core.errors import AEFError
from ..engines.base import Product
from ..rendering.view import MapView
from ..sources.base import EmbeddingSource
from .jobs import JobRunner
from .layer_slot import LayerSlot
from .map_view import track_view, view_of
from .state import ExplorerState

log = logging.getLogger(__name__)
#: Delay before redrawing after the view moves, so a pan or zoom burst costs one redraw.
VIEW_DEBOUNCE_S = 0.15
_STATUS_COLORS = {"info": "#555", "busy": "#555", "ok": "#1b7f3b", "error": "#b00020"}


def error_message(error: BaseException) -> str:
    """Words for a user: our own errors say what to do; anything else is logged, not shown raw."""
    if isinstance(error, (AEFError, TraitError, ValueError)):
        return str(error)
    log.error("unexpected error in a widget", exc_info=error)
    return f"Something went wrong ({type(error).__name__}); the details are in the log."


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
        if state is not None and source is not None and state.source is not source:
            raise TypeError("give either a state or a source, not both")
        self.state = state if state is not None else ExplorerState(source)
        self.map = map
        self.runner = runner if runner is not None else JobRunner()
        self.status = HTML(layout=Layout(min_height="1.4em"))
        self.status.add_class("aef-status")
        super().__init__(**kwargs)
        if map is not None:
            track_view(map, self.state)

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
        self.state.observe(lambda change: setattr(control, "value", change["new"]), names=name)

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


class ProductLayer:
    """Keeps one product's layer on the map in step with the view, in the background."""

    def __init__(self, panel: Panel, name: str, kind: str, draw=None) -> None:
        self.panel = panel
        self.channel = f"{kind}-{id(self)}"
        self.slot = LayerSlot(panel.map, name, kind, panel.state.source.attribution) if panel.map else None
        self.product: Product | None = None
        self.draw = draw or (lambda product, view: product.layer(view))
        panel.state.observe(self._view_moved, names="view")

    def set(self, product: Product | None, delay: float = 0.0) -> None:
        """Show a new product (None clears the layer); a new result goes on top of older ones."""
        self.product = product
        if product is not None and self.slot is not None:
            self.slot.raise_()
        self.refresh(delay)

    def refresh(self, delay: float = 0.0) -> None:
        if self.slot is None:
            return
        self.slot.attribution = self.panel.state.source.attribution
        product, view = self.product, self.panel.current_view()
        if product is None or view is None:
            self.panel.runner.cancel(self.channel)
            self.slot.remove()
            return
        self.panel.runner.submit(
            self.channel, lambda: self.draw(product, view), self.slot.show, self.panel.show_error, delay=delay
        )

    def _view_moved(self, _change) -> None:
        if self.product is not None and self.product.view_dependent:
            self.refresh(VIEW_DEBOUNCE_S)
