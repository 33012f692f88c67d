"""A thresholded product as the similarity and change panels show one: its values, the pixels at or above the
threshold, and their area, each a node of the flow that follows the product, the threshold and the view."""

from __future__ import annotations

from ipywidgets import HTML

from ..engines.base import AreaSummary, ThresholdedProduct
from ..products.threshold import Thresholded
from .base import KEEP, Computed, Panel, ProductLayer

#: Delay before redrawing after the threshold slider or the view moves, so a drag costs one redraw.
THRESHOLD_DEBOUNCE_S = 0.1


class ThresholdedLayers:
    """Two layers of one product (its values, and what is above the threshold) and the area above it."""

    def __init__(
        self, panel: Panel, product: str, threshold: str, nodes: tuple[str, str, str], names: tuple[str, str],
        kinds: tuple[str, str], label: str,
    ) -> None:  # fmt: skip
        self.panel, self.product, self.threshold, self.label = panel, product, threshold, label
        self.values_layer = ProductLayer(panel, nodes[0], product, names[0], kinds[0])
        self.above_layer = ProductLayer(
            panel, nodes[1], product, names[1], kinds[1],
            draw=lambda p, ctx, view: p.above_layer(ctx, self.value, view), delay=THRESHOLD_DEBOUNCE_S,
        )  # fmt: skip
        self.area_text = HTML()
        self.area = Computed(
            panel,
            nodes[2],
            self._prepare_area,
            self._show_area,
            key=self._area_key,
            delay=lambda: THRESHOLD_DEBOUNCE_S,
            heavy=True,
        )
        self.area_node = nodes[2]

    @property
    def value(self) -> float:
        """The threshold, from the shared state."""
        return getattr(self.panel.state, self.threshold)

    def _area_key(self) -> tuple:
        key = self.panel.flow.key(self.area_node)
        product = self.panel.flow.values.get(self.product)
        # with an AOI the area is measured in it, wherever the map looks
        return key.without("view") if product is not None and product.aoi is not None else key

    def _prepare_area(self):
        flow = self.panel.flow
        product: ThresholdedProduct | None = flow.values.get(self.product)
        if product is None:
            return None
        if not flow.is_current(self.product):
            return KEEP
        threshold, view, ctx = self.value, self.panel.current_view(), self.panel.state.engine.context
        return lambda job: (threshold, product.above_area(ctx, threshold, view))

    def _show_area(self, result: tuple[float, AreaSummary] | None) -> None:
        if result is None:
            self.area_text.value = ""
            return
        threshold, summary = result
        self.area_text.value = f"{self.label} (≥ {threshold:.2f}): {summary.describe()}"

    @classmethod
    def declared(cls, panel: Panel, family: Thresholded, label: str) -> ThresholdedLayers:
        """The layers and area of a declared thresholded family (``products.threshold``), with its titles."""
        return cls(
            panel, family.product.name, family.threshold, (family.values.name, family.above.name, family.area.name),
            (family.values.title, family.above.title), (family.values.kind.name, family.above.kind.name), label,
        )  # fmt: skip
