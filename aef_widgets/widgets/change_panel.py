"""ChangePanel: how much each pixel changed between two years (1 - dot product), and where it changed most."""

from __future__ import annotations

from ipywidgets import HTML, Checkbox, Dropdown, FloatSlider, HBox, Layout

from ..engines.base import ChangeProduct
from ..rendering.legend import colorbar_html
from .base import VIEW_DEBOUNCE_S, Panel, ProductLayer


class ChangePanel(Panel):
    """Two years compared; ``value`` is the pair (before, after).

    Shows a change map with a colour bar, the pixels changed beyond a threshold, and their area.
    """

    def __init__(self, state=None, *, show: bool = True, **kwargs) -> None:
        super().__init__(state, **kwargs)
        self.product: ChangeProduct | None = None
        years = list(self.state.source.years)
        narrow = Layout(width="10em")
        self.before = Dropdown(options=years, description="From", layout=narrow, style={"description_width": "3em"})
        self.after = Dropdown(options=years, description="to", layout=narrow, style={"description_width": "2em"})
        self.show_map = Checkbox(value=show, description="Show change on the map", indent=False)
        self.threshold = FloatSlider(
            min=0.0, max=1.0, step=0.01, description="Threshold", readout_format=".2f", layout=Layout(width="auto")
        )
        self.colorbar = HTML()
        self.changed = HTML()
        self.layer = ProductLayer(self, "Change", "change")
        self.changed_layer = ProductLayer(
            self, "Changed pixels", "changed",
            draw=lambda product, view: product.changed_layer(self.state.change_threshold, view),
        )  # fmt: skip
        self.value = self.state.change_years
        self.before.value, self.after.value = self.value
        self.bind(self.threshold, "change_threshold")
        self.before.observe(self._years_picked, names="value")
        self.after.observe(self._years_picked, names="value")
        self.observe(self._value_set, names="value")
        self.state.observe(self._state_years, names="change_years")
        self.state.observe(self._recompute, names=["change_years", "source", "aoi"])
        self.state.observe(self._threshold_moved, names="change_threshold")
        self.state.observe(self._view_moved, names="view")
        self.show_map.observe(self._recompute, names="value")
        self.children = [
            HBox([self.before, self.after]), self.show_map, self.colorbar, self.threshold, self.changed, self.status,
        ]  # fmt: skip
        self.add_class("aef-change-panel")
        self._recompute()

    def _years_picked(self, _change) -> None:
        self.value = (self.before.value, self.after.value)

    def _value_set(self, change) -> None:
        self.state.change_years = change["new"]

    def _state_years(self, change) -> None:
        self.value = change["new"]
        self.before.value, self.after.value = change["new"]

    def _recompute(self, _change=None) -> None:
        if self.state.source.years != tuple(self.before.options):
            self.before.options = self.after.options = list(self.state.source.years)
        before, after = self.state.change_years
        if not self.show_map.value or before == after:
            self.product = None
            self.layer.set(None)
            self.changed_layer.set(None)
            self.colorbar.value = self.changed.value = ""
            self.show_status("Choose two different years." if before == after else "")
            return
        self.show_status("")
        try:
            self.product = self.state.engine.change(before, after, self.state.aoi)
        except Exception as e:  # shown in the panel: the app keeps working
            self.show_error(e)
            return
        self.colorbar.value = colorbar_html(
            self.product.cmap, self.product.vmin, self.product.vmax, f"Change {before} → {after} (1 − cosine)"
        )
        self.layer.set(self.product)
        self.changed_layer.set(self.product)
        self._measure()

    def _threshold_moved(self, _change) -> None:
        if self.product is not None:
            self.changed_layer.refresh(delay=0.05)
            self._measure(delay=0.05)

    def _view_moved(self, _change) -> None:
        if self.product is not None and self.state.aoi is None:  # areas are measured in the view
            self._measure(delay=VIEW_DEBOUNCE_S)

    def _measure(self, delay: float = 0.0) -> None:
        product, threshold, view = self.product, self.state.change_threshold, self.current_view()

        def show(summary) -> None:
            self.changed.value = f"Changed (≥ {threshold:.2f}): {summary.describe()}"

        def work():
            return product.changed_area(threshold, view)

        self.runner.submit("change-area", work, show, self.show_error, delay)
