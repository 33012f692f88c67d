"""ChangePanel: how much each pixel changed between two years (1 - dot product), and where it changed most."""

from __future__ import annotations

from ipywidgets import HTML, Checkbox, Dropdown, FloatSlider, HBox, Layout

from ..engines.base import ChangeProduct
from ..rendering.legend import colorbar_html
from .base import Panel
from .thresholded_map import ThresholdedMap


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
        self.map_layers = ThresholdedMap(
            self, "change_threshold", ("Change", "Changed pixels"), ("change", "changed"),
            above=lambda product, t, view: product.changed_layer(t, view),
            area=lambda product, t, view: product.changed_area(t, view), label="Changed",
        )  # fmt: skip
        self.changed = self.map_layers.area_text
        self.value = self.state.change_years
        self.before.value, self.after.value = self.value
        self.bind(self.threshold, "change_threshold")
        self.before.observe(self._years_picked, names="value")
        self.after.observe(self._years_picked, names="value")
        self.observe(self._value_set, names="value")
        self.state.observe(self._state_years, names="change_years")
        self.state.observe(self._recompute, names=["change_years", "source", "aoi"])
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
            self.map_layers.show(None)
            self.colorbar.value = ""
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
        self.map_layers.show(self.product)
