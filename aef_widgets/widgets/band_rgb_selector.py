"""BandRGBSelector: which three bands (or principal components) colour the map, and how they are stretched."""

from __future__ import annotations

from ipywidgets import Dropdown, FloatRangeSlider, HBox, Layout

from ..analysis.composite import BandStretch, PCAStretch
from ..core.bands import BAND_NAMES, DEFAULT_RGB_BANDS, DEFAULT_STRETCH
from ..core.errors import UsageError
from .base import Computed, Panel, ProductLayer

PRESETS = {
    "Standard (A01, A16, A09)": BandStretch(DEFAULT_RGB_BANDS, *DEFAULT_STRETCH),
    "Principal components": PCAStretch(),
    "Custom bands": None,
}


class BandRGBSelector(Panel):
    """Three bands as red, green, blue with a min/max stretch, or the PCA composite.

    ``value`` is a ``BandStretch`` or ``PCAStretch``. Given a map, keeps an "RGB composite" layer on it.
    """

    def __init__(self, state=None, **kwargs) -> None:
        super().__init__(state, **kwargs)
        narrow = Layout(width="7.5em")
        self.preset = Dropdown(options=list(PRESETS), description="Colours", layout=Layout(width="auto"))
        self.red, self.green, self.blue = (
            Dropdown(options=BAND_NAMES, description=label, layout=narrow, style={"description_width": "1.5em"})
            for label in ("R", "G", "B")
        )
        self.stretch = FloatRangeSlider(
            min=-1.0, max=1.0, step=0.01, description="Stretch", readout_format=".2f", layout=Layout(width="auto")
        )
        self.value = self.state.rgb_style
        self.preset.observe(self._preset_chosen, names="value")
        for control in (self.red, self.green, self.blue, self.stretch):
            control.observe(self._bands_edited, names="value")
        self._show(self.value)
        self.link_value("rgb_style")
        self.observe(lambda change: self._show(change["new"]), names="value")
        self.computed = Computed(self, "rgb", self._prepare, self._computed, label="colours")
        # a remote source's view is drawn from a coarse overview first, then at full resolution, as map users expect
        self.layer = ProductLayer(self, "rgb layer", "rgb", "RGB composite", "rgb", preview=True)
        self.children = [self.preset, HBox([self.red, self.green, self.blue]), self.stretch, self.status]
        self.add_class("aef-band-rgb-selector")
        self.computed.update()

    def _show(self, style) -> None:
        """Put a style into the controls; the controls' own events are not edits meanwhile."""
        edits = (self.red, self.green, self.blue, self.stretch)
        self.preset.unobserve(self._preset_chosen, names="value")
        for control in edits:
            control.unobserve(self._bands_edited, names="value")
        try:
            self.preset.value = next((name for name, s in PRESETS.items() if s == style), "Custom bands")
            is_bands = isinstance(style, BandStretch)
            for control in edits:
                control.disabled = not is_bands
            if is_bands:
                self.red.value, self.green.value, self.blue.value = style.bands
                self.stretch.value = (style.vmin, style.vmax)
        finally:
            self.preset.observe(self._preset_chosen, names="value")
            for control in edits:
                control.observe(self._bands_edited, names="value")

    def _preset_chosen(self, change) -> None:
        style = PRESETS[change["new"]]
        if style is not None:
            self.value = style
        elif not isinstance(self.value, BandStretch):
            self.value = BandStretch(DEFAULT_RGB_BANDS, *DEFAULT_STRETCH)

    def _bands_edited(self, _change) -> None:
        if self.red.disabled:
            return
        # the browser's slider works in float steps of 0.01 (-0.30000000000000004); keep the stretch on that grid
        vmin, vmax = (round(v, 6) for v in self.stretch.value)
        try:
            self.value = BandStretch((self.red.value, self.green.value, self.blue.value), vmin, vmax)
        except UsageError as e:  # a band triple or stretch BandStretch refuses: say why
            self.show_error(e)

    def _prepare(self):
        state = self.state
        engine, year, style = state.engine, state.year, state.rgb_style
        # PCA colours on Earth Engine are fitted on a sample of the region, with a request: never on this thread
        region = state.aoi or self.current_view()
        self.show_status("")
        return lambda job: engine.rgb(year, style, region)

    def _computed(self, product) -> None:
        self.flow.set("rgb", product)
