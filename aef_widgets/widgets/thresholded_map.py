"""A map with a threshold, as the similarity and change panels show one: the values, the pixels at or above the
threshold, and their area, kept in step with the threshold and the view."""

from __future__ import annotations

from collections.abc import Callable

from ipywidgets import HTML

from ..engines.base import AreaSummary, Layer, Product
from ..rendering.view import MapView
from .base import VIEW_DEBOUNCE_S, Panel, ProductLayer

#: Delay before redrawing after the threshold slider moves, so a drag costs one redraw.
THRESHOLD_DEBOUNCE_S = 0.05


class ThresholdedMap:
    """Two layers of one product (its values, and what is above the threshold) and the area above it."""

    def __init__(
        self,
        panel: Panel,
        threshold: str,
        names: tuple[str, str],
        kinds: tuple[str, str],
        above: Callable[[Product, float, MapView], Layer | None],
        area: Callable[[Product, float, MapView | None], AreaSummary],
        label: str,
    ) -> None:
        self.panel, self.threshold, self.area, self.label = panel, threshold, area, label
        self.channel = f"{kinds[1]}-area-{id(self)}"
        self.product: Product | None = None
        self.values_layer = ProductLayer(panel, names[0], kinds[0])
        self.above_layer = ProductLayer(panel, names[1], kinds[1], draw=lambda p, view: above(p, self.value, view))
        self.area_text = HTML()
        panel.state.observe(self._threshold_moved, names=threshold)
        panel.state.observe(self._view_moved, names="view")

    @property
    def value(self) -> float:
        """The threshold, from the shared state."""
        return getattr(self.panel.state, self.threshold)

    def show(self, product: Product | None) -> None:
        """Draw a new product (None clears both layers and the area)."""
        self.product = product
        self.values_layer.set(product)
        self.above_layer.set(product)
        if product is None:
            self.panel.runner.cancel(self.channel)
            self.area_text.value = ""
        else:
            self._measure()

    def _threshold_moved(self, _change) -> None:
        if self.product is not None:
            self.above_layer.refresh(delay=THRESHOLD_DEBOUNCE_S)
            self._measure(delay=THRESHOLD_DEBOUNCE_S)

    def _view_moved(self, _change) -> None:
        if self.product is not None and self.panel.state.aoi is None:  # areas are measured in the view
            self._measure(delay=VIEW_DEBOUNCE_S)

    def _measure(self, delay: float = 0.0) -> None:
        product, threshold, view = self.product, self.value, self.panel.current_view()

        def work() -> AreaSummary:
            return self.area(product, threshold, view)

        def show(summary: AreaSummary) -> None:
            self.area_text.value = f"{self.label} (≥ {threshold:.2f}): {summary.describe()}"

        self.panel.runner.submit(self.channel, work, show, self.panel.show_error, delay)
