"""IndexPanel: an index from embeddings (a direction between two clicked pixels, or loaded weights), its map, the
pixels at or above a threshold and their area. The product is declared in ``products.index``."""

from __future__ import annotations

import html
import re

from ipywidgets import HTML, Button, Checkbox, FloatSlider, Layout, Textarea

from ..core.errors import AEFError, UsageError
from ..products.index import INDEX, direction_between, index_product, unit_weights
from ..rendering.legend import colorbar_html
from .base import Computed, Panel, error_message
from .thresholded_layers import ThresholdedLayers


class IndexPanel(Panel):
    """An index from embeddings; ``value`` is its weights (64 numbers, [] for none), the state's ``index_weights``.

    With "pick" on, a first click on the map chooses a pixel like "low", a second one like "high": the weights
    point from the first embedding to the second and the threshold goes halfway between them. Or paste 64 weights.
    """

    def __init__(self, state=None, **kwargs) -> None:
        super().__init__(state, **kwargs)
        self.picking = Checkbox(value=False, description="Click a low pixel, then a high one", indent=False)
        self.threshold = FloatSlider(
            min=-1.0, max=1.0, step=0.01, description="Threshold", readout_format=".2f", layout=Layout(width="auto")
        )
        self.bind(self.threshold, INDEX.threshold)
        self.weights_text = Textarea(placeholder="…or paste 64 weights, one per band", layout=Layout(width="auto"))
        self.use_weights = Button(description="Use these weights", layout=Layout(width="auto"))
        self.use_weights.on_click(lambda _: self.load_weights(self.weights_text.value))
        self.notice, self.colorbar = HTML(), HTML()
        self.map_layers = ThresholdedLayers.declared(self, INDEX, label="At or above the threshold")
        self.computed = Computed(self, INDEX.product.name, self._prepare, self._show, label="index")
        self._low: tuple[float, float] | None = None  # the "low" pixel clicked, until the "high" one is
        self._channel = f"index-direction-{id(self)}"
        self._detach.append(lambda: self.runner.cancel(self._channel))
        self.link_value("index_weights")
        self.on_map_interaction(self._map_event)
        self.children = [
            self.picking, self.notice, self.weights_text, self.use_weights, self.colorbar, self.threshold,
            self.map_layers.area_text, self.status,
        ]  # fmt: skip
        self.add_class("aef-index-panel")
        self.computed.update()

    @property
    def product(self):
        """The index shown, if any."""
        return self.flow.values.get(INDEX.product.name)

    def pick(self, lon: float, lat: float) -> None:
        """A click: the "low" pixel first, then the "high" one, whose embeddings give the direction."""
        if self._low is None:
            self._low = (float(lon), float(lat))
            self.notice.value = "Low pixel chosen; now click a pixel that should score high."
            return
        low, high, self._low = self._low, (float(lon), float(lat)), None
        source, year = self.state.source, self.state.year
        self.notice.value = ""
        self.show_status("Reading the two pixels…", "busy")
        self.runner.submit(
            self._channel, lambda job: direction_between(source, year, low, high), self._set_direction,
            self._refused, label="index direction",
        )  # fmt: skip

    def load_weights(self, text: str) -> None:
        """Weights typed or pasted: 64 numbers separated by commas, spaces or new lines."""
        try:
            weights = [float(x) for x in re.split(r"[\s,;]+", text.strip()) if x]
            unit_weights(weights)
        except ValueError as e:  # UsageError is a ValueError too
            self._refused(e if isinstance(e, AEFError) else UsageError(f"could not read the weights as numbers ({e})"))
            return
        self.notice.value = ""
        self.value = weights
        self._bring_to_top()

    def _set_direction(self, found: tuple[list[float], float]) -> None:
        weights, threshold = found
        self.show_status("")
        with self.state.hold_trait_notifications():
            self.value = weights
            setattr(self.state, INDEX.threshold, threshold)
        self._bring_to_top()

    def _refused(self, error: BaseException) -> None:
        self.show_status("")
        self.notice.value = f'<span style="color:#b00020">{html.escape(error_message(error))}</span>'

    def _bring_to_top(self) -> None:
        if self.map is not None:
            self.layer_stack().bring_to_top(INDEX.values.kind.family)

    def _map_event(self, **event) -> None:
        if event.get("type") == "click" and self.picking.value:
            lat, lon = event["coordinates"]
            self.pick(lon, lat)

    def _prepare(self):
        weights, year, aoi = list(self.state.index_weights), self.state.year, self.state.aoi
        if not weights:
            return None
        ctx = self.state.engine.context
        self.show_status("Computing the index…", "busy")
        return lambda job: index_product(ctx, year, weights, aoi)

    def _show(self, product) -> None:
        self.show_status("")
        self.flow.set(INDEX.product.name, product)
        self.colorbar.value = "" if product is None else colorbar_html(
            product.cmap, product.vmin, product.vmax, "Index (embedding · unit weights)"
        )  # fmt: skip
