"""LayerList: every layer the widgets put on the map, with its name, visibility and opacity."""

from __future__ import annotations

import ipyleaflet
from ipywidgets import HTML, Checkbox, FloatSlider, HBox, Layout, ValueWidget, VBox
from traitlets import Any


class LayerList(VBox, ValueWidget):
    """Show/hide and fade the widgets' layers; ``value`` maps layer names to opacities.

    Built from plain checkboxes and sliders (no icon fonts), so it reads the same offline.
    """

    value = Any()

    def __init__(self, map: ipyleaflet.Map, **kwargs) -> None:
        super().__init__(**kwargs)
        self.map = map
        self.value = {}
        map.observe(self._rebuild, names="layers")
        self.add_class("aef-layer-list")
        self._rebuild()

    def _rebuild(self, _change=None) -> None:
        ours = [layer for layer in reversed(self.map.layers) if hasattr(layer, "_aef_kind")]
        rows = [self._row(layer) for layer in ours]
        self.children = rows or [HTML("<i>No layers yet.</i>")]
        self.value = {layer.name: getattr(layer, "opacity", 1.0) for layer in ours}

    def _row(self, layer: ipyleaflet.Layer) -> HBox:
        if "visible" in layer.trait_names():
            visible = Checkbox(value=layer.visible, description=layer.name, indent=False, layout=Layout(width="55%"))
            visible.observe(lambda c: setattr(layer, "visible", c["new"]), names="value")
            controls = [visible]
        else:
            controls = [HTML(layer.name, layout=Layout(width="55%"))]
        if "opacity" in layer.trait_names():
            opacity = FloatSlider(
                value=layer.opacity, min=0, max=1, step=0.05, readout=False, layout=Layout(width="40%"),
                description_allow_html=False,
            )  # fmt: skip
            opacity.observe(lambda c: self._fade(layer, c["new"]), names="value")
            controls.append(opacity)
        return HBox(controls)

    def _fade(self, layer: ipyleaflet.Layer, opacity: float) -> None:
        layer.opacity = opacity
        self.value = {**self.value, layer.name: opacity}
