"""ChangePanel: how much each pixel changed between two years (1 - cosine), and where it changed most."""

from __future__ import annotations

from ipywidgets import HTML, Checkbox, Dropdown, FloatSlider, HBox, Layout

from ..engines.base import ChangeProduct
from ..products.change import CHANGE
from ..rendering.legend import colorbar_html
from .base import Computed, Panel
from .thresholded_layers import ThresholdedLayers


class ChangePanel(Panel):
    """Two years compared; ``value`` is the pair (before, after).

    Shows a change map (1 - cosine of each pixel's two embeddings, 0 = unchanged) with a colour bar, the pixels
    changed beyond a threshold, and their area.
    """

    def __init__(self, state=None, *, show: bool = True, **kwargs) -> None:
        super().__init__(state, **kwargs)
        years = list(self.state.source.years)
        narrow = Layout(width="10em")
        self.before = Dropdown(options=years, description="From", layout=narrow, style={"description_width": "3em"})
        self.after = Dropdown(options=years, description="to", layout=narrow, style={"description_width": "2em"})
        self.show_map = Checkbox(value=show, description="Show change on the map", indent=False)
        self.threshold = FloatSlider(
            min=0.0, max=1.0, step=0.01, description="Threshold", readout_format=".2f", layout=Layout(width="auto")
        )
        self.colorbar = HTML()
        self.map_layers = ThresholdedLayers.declared(self, CHANGE, label="Changed")
        self.changed = self.map_layers.area_text
        self.computed = Computed(
            self, "change", self._prepare, self._show, label="change",
            key=lambda: self.flow.key("change").plus(shown=self.show_map.value),
        )  # fmt: skip
        self.value = self.state.change_years
        self.before.value, self.after.value = self.value
        self.bind(self.threshold, "change_threshold")
        self.before.observe(self._years_picked, names="value")
        self.after.observe(self._years_picked, names="value")
        self.observe(self._value_set, names="value")
        self.listen(self.state, self._state_years, "change_years")
        self.listen(self.state, self._source_changed, "source")
        self.show_map.observe(self._shown, names="value")
        self.children = [
            HBox([self.before, self.after]), self.show_map, self.colorbar, self.threshold, self.changed, self.status,
        ]  # fmt: skip
        self.add_class("aef-change-panel")
        self.computed.update()

    @property
    def product(self) -> ChangeProduct | None:
        """The change shown, if any."""
        return self.flow.values.get("change")

    def _years_picked(self, _change) -> None:
        self.value = (self.before.value, self.after.value)

    def _value_set(self, change) -> None:
        self.state.change_years = change["new"]

    def _state_years(self, _change=None) -> None:
        """Show the state's years, with the state's source's years to choose from (a new source brings both)."""
        self.before.unobserve(self._years_picked, names="value")
        self.after.unobserve(self._years_picked, names="value")
        try:
            years = list(self.state.source.years)
            if tuple(years) != tuple(self.before.options):
                self.before.options = self.after.options = years
            self.before.value, self.after.value = self.state.change_years
        finally:
            self.before.observe(self._years_picked, names="value")
            self.after.observe(self._years_picked, names="value")
        self.value = self.state.change_years

    def _source_changed(self, _change) -> None:
        self._state_years()

    def _shown(self, change) -> None:
        self.computed.update()
        if change["new"] and self.map is not None:
            self.layer_stack().bring_to_top("change")

    def _prepare(self):
        before, after = self.state.change_years
        if not self.show_map.value or before == after:
            self.show_status("Choose two different years." if before == after else "")
            return None
        engine, aoi = self.state.engine, self.state.aoi
        self.show_status("")
        return lambda job: engine.change(before, after, aoi)

    def _show(self, product: ChangeProduct | None) -> None:
        self.flow.set("change", product)
        if product is None:
            self.colorbar.value = ""
            return
        self.colorbar.value = colorbar_html(
            product.cmap, product.vmin, product.vmax, f"Change {product.year_a} → {product.year_b} (1 − cosine)"
        )
