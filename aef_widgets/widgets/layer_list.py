"""LayerList: every layer the widgets put on the map, with its name, visibility and opacity."""

from __future__ import annotations

import ipyleaflet
from ipywidgets import HTML, Checkbox, FloatSlider, HBox, Layout, ValueWidget, VBox
from traitlets import Any

from .layer_stack import LayerStack
from .lifecycle import close_widget


class LayerList(VBox, ValueWidget):
    """Show/hide and fade the widgets' layers, top layer first; ``value`` maps layer names to opacities.

    Built from plain checkboxes and sliders (no icon fonts), so it reads the same offline. A row lives as long as
    its layer: rows of removed layers are closed, not left behind.
    """

    value = Any()

    def __init__(self, map: ipyleaflet.Map, **kwargs) -> None:
        super().__init__(**kwargs)
        self.map = map
        self.stack = LayerStack.of(map)
        self.value = {}
        self._rows: dict[int, tuple[ipyleaflet.Layer, HBox]] = {}
        self._empty = HTML("<i>No layers yet.</i>")
        map.observe(self._rebuild, names="layers")
        self.add_class("aef-layer-list")
        self._rebuild()

    def close(self) -> None:
        """Stop following the map and close every row (the map, shared with the panels, stays)."""
        if getattr(self, "_rows", None) is not None:  # absent if ``__init__`` did not get that far
            self.map.unobserve(self._rebuild, names="layers")
            for _, row in self._rows.values():
                close_widget(row)
            self._rows = None
            close_widget(self._empty)
        close_widget(self)

    def _rebuild(self, _change=None) -> None:
        ours = list(reversed(self.stack.layers()))
        alive = {id(layer) for layer in ours}
        for key in [k for k in self._rows if k not in alive]:
            _, row = self._rows.pop(key)
            close_widget(row)
        rows = []
        for layer in ours:
            if id(layer) not in self._rows:
                self._rows[id(layer)] = (layer, self._row(layer))
            rows.append(self._rows[id(layer)][1])
        self.children = rows or [self._empty]
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
                description="opacity", tooltip=f"Opacity of {layer.name}", style={"description_width": "4em"},
            )  # fmt: skip
            opacity.observe(lambda c: self._fade(layer, c["new"]), names="value")
            controls.append(opacity)
        return HBox(controls)

    def _fade(self, layer: ipyleaflet.Layer, opacity: float) -> None:
        layer.opacity = opacity
        self.value = {**self.value, layer.name: opacity}
