"""The flow's nodes as a panel computes and shows them: ``Computed`` (a product, in the background, shown only while
its key holds) and ``ProductLayer`` (a product drawn for the view).

A node whose first layer can be drawn in the same job as its product says so (``Computed(..., layers=...)``): the
worker computes the product, then draws that layer for the view the job started with, and hands both back; the
layer, asked to draw that product for that view, shows what was drawn instead of starting a job of its own. A click
then crosses two threads (loop -> worker -> loop), not four. Nothing stale: a layer drawn for another view or
product is not used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any as AnyType

from ..rendering.view import MapView
from .flow import Key
from .jobs import Job

#: Delay before redrawing after the view moves, so a pan or zoom burst costs one redraw.
VIEW_DEBOUNCE_S = 0.15
#: What ``prepare`` returns to leave what is shown as it is.
KEEP = object()


class Ready:
    """What ``prepare`` returns when the result is at hand (a layer drawn ahead): shown now, with no job."""

    def __init__(self, result: AnyType) -> None:
        self.result = result


class Computed:
    """One node of the flow, computed by a panel in the background and shown only while its key still holds.

    ``prepare`` runs on the kernel's loop and reads the state: it returns the work (``work(job) -> result``), None
    to show nothing, or ``KEEP`` to leave what is shown. ``show`` gets the result (or None) on the loop.
    """

    def __init__(
        self,
        panel: AnyType,  # the Panel (``base`` imports this module)
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
        layers: tuple[ProductLayer, ...] = (),
    ) -> None:
        self.panel, self.node, self.prepare, self.show_result = panel, node, prepare, show
        self.layers = layers  # layers of this product drawn in its job, for the view the job starts with
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
        if isinstance(work, Ready):
            self.panel.runner.cancel(self.channel)
            self._done(key, work.result)
            return
        if work is None:
            self.panel.runner.cancel(self.channel)
            self.show_result(None)
            return

        ahead = [draw for draw in (layer.ahead() for layer in self.layers) if draw is not None]

        def run(job: Job) -> tuple[AnyType, list]:
            self.computations += 1
            result = work(job)
            return result, [draw(result) for draw in ahead] if result is not None else []

        self.panel.runner.submit(
            self.channel, run, lambda out: self._done(key, *out), self._failed, delay,
            label=self.label, progress=self.progress, heavy=self.heavy,
        )  # fmt: skip

    def cancel(self) -> None:
        """Stop what is computing; show nothing."""
        self.key = None
        self.panel.runner.cancel(self.channel)

    @property
    def current(self) -> bool:
        return self.key is not None and self.key == self.key_of()

    def _done(self, key: tuple, result: AnyType, drawn: list = ()) -> None:
        if key != self.key_of():  # the state moved on while this was computed
            return
        for prime in drawn:
            prime()  # before ``show`` passes the product on: its layers find what was drawn for it
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
        self, panel: AnyType, node: str, product: str, name: str, kind: str,
        draw: Callable[[AnyType, AnyType, MapView], AnyType] | None = None, delay: float = VIEW_DEBOUNCE_S,
        preview: bool = False,
    ) -> None:  # fmt: skip
        self.panel, self.name, self.product_node, self.delay, self.preview = panel, node, product, delay, preview
        self._drawn = None  # the product last drawn: a new one is drawn at once, a moved view after a pause
        self.slot = panel.layer_slot(name, kind, panel.state.source.attribution)
        # draw(product, ctx, view): the engine's reader context is given to the product, which keeps none
        self.draw = draw or (lambda product, ctx, view: product.layer(ctx, view))
        self._primed: tuple | None = None  # (product, view, layer): drawn ahead in the product's job
        self.node = Computed(panel, node, self._prepare, self._show, key=self._key, delay=self._delay)

    def ahead(self) -> Callable[[AnyType], Callable[[], None]] | None:
        """On the loop, as the product's job starts: what draws this layer of the product in that job, for the view
        of now, and returns what hands it to this layer on the loop (``prime``). None when nothing would be drawn."""
        view = self.panel.current_view()
        if self.slot is None or view is None:
            return None
        ctx = self.panel.state.engine.context

        def draw(product: AnyType) -> Callable[[], None]:
            try:
                layer = self.draw(product, ctx, view)
            except Exception:  # the layer's own job draws it again, and says what failed where the layer is shown
                return lambda: None
            return lambda: self.prime(product, view, layer)

        return draw

    def prime(self, product: AnyType, view: MapView, layer: AnyType) -> None:
        """``layer`` is this layer of ``product`` drawn for ``view``: shown, with no job, if it is asked for next."""
        self._primed = (product, view, layer)

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
        primed, self._primed = self._primed, None
        if primed is not None and primed[0] is product and (primed[1] == view or not product.view_dependent):
            return Ready(primed[2])
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
