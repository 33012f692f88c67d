"""The layers the widgets put on one map, in one stated order, updated in place so they never flicker.

The order rule, bottom to top: basemaps and layers of others; the RGB composite; the analysis results; the AOI
outline; the probe markers. Among the results, the product the user last asked for is on top: running k-means,
adding a reference, or showing change puts that product's layers above the others. Redraws (a new year, bands, AOI,
view or source) never reorder. Only the kernel's loop changes layers (see ``jobs``), so the order never races.
"""

from __future__ import annotations

import ipyleaflet
from traitlets import Unicode

from ..engines.base import Layer, Tiles
from ..products.registry import layer_kinds, start_opacity
from ..rendering.overlay import Overlay
from .per_map import PerMap

#: Our layer kinds, each with the product family it belongs to; the list is also the initial order, bottom first
#: (declared by the product families, ``products.registry.STACKING``).
KINDS = layer_kinds()
_BASE, _MARKS = ("rgb",), ("aoi", "probes")
CRISP_CLASS = "aef-crisp"
#: Highlights of pixels above a threshold start half-transparent, so the map under them stays readable.
START_OPACITY = start_opacity()


class ImageOverlay(ipyleaflet.ImageOverlay):
    """An image overlay with a CSS class on its <img>, so categorical images can be drawn pixelated."""

    class_name = Unicode("").tag(sync=True, o=True)
    """CSS class of the <img>, set when the image is created."""

    alt = Unicode("").tag(sync=True, o=True)
    """Alternative text of the <img> (the layer's name): for screen readers, and to find a layer in the page."""


class LayerStack(PerMap):
    """Every layer of ours on one map, and the order they are stacked in."""

    def __init__(self, m: ipyleaflet.Map) -> None:
        super().__init__(m)
        self.slots: list[LayerSlot] = []
        #: Result families, bottom to top.
        self.results = [f for f in dict.fromkeys(KINDS.values()) if f not in _BASE + _MARKS]

    def slot(self, name: str, kind: str, attribution: str = "") -> LayerSlot:
        """A new named place for one layer on this map."""
        if kind not in KINDS:
            raise ValueError(f"unknown layer kind {kind!r}")
        slot = LayerSlot(self, name, kind, attribution)
        self.slots.append(slot)
        return slot

    def bring_to_top(self, family: str) -> None:
        """Put a product's layers above the other results: the user just asked for it."""
        if family in self.results and self.results[-1] != family:
            self.results.remove(family)
            self.results.append(family)
            self.restack()

    def layers(self) -> list[ipyleaflet.Layer]:
        """Our layers on the map, bottom to top."""
        return sorted((s.layer for s in self.slots if s.layer is not None), key=self._rank)

    def restack(self, drop: ipyleaflet.Layer | None = None) -> None:
        """Put our layers in order above the others, in one change of ``map.layers`` (without ``drop``)."""
        ours = {id(layer) for layer in (s.layer for s in self.slots) if layer is not None}
        others = [x for x in self.map.layers if id(x) not in ours and x is not drop]
        wanted = tuple(others + self.layers())
        if tuple(self.map.layers) != wanted:
            self.map.layers = wanted

    def _rank(self, layer: ipyleaflet.Layer) -> tuple[int, int, int]:
        kind = next(s.kind for s in self.slots if s.layer is layer)
        family, kinds = KINDS[kind], list(KINDS)
        if family in _BASE:
            return (0, 0, kinds.index(kind))
        if family in _MARKS:
            return (2, 0, kinds.index(kind))
        return (1, self.results.index(family), kinds.index(kind))


class LayerSlot:
    """Shows, updates and removes one named layer of a stack; closes every layer it replaces."""

    def __init__(self, stack: LayerStack, name: str, kind: str, attribution: str = "") -> None:
        self.stack, self.name, self.kind, self.attribution = stack, name, kind, attribution
        self.layer: ipyleaflet.Layer | None = None
        self.opacity = START_OPACITY.get(kind, 1.0)
        self.closed = False

    @property
    def map(self) -> ipyleaflet.Map:
        return self.stack.map

    def show(self, spec: Layer | ipyleaflet.Layer | None) -> None:
        """Draw ``spec`` (an image, tiles, or a ready-made layer); None removes the layer."""
        if self.closed:  # a result for a closed panel: not shown, and a layer made for it is not left open
            if isinstance(spec, ipyleaflet.Layer):
                close_layer(spec)
            return
        if spec is None:
            self.remove()
            return
        if isinstance(spec, Overlay) and isinstance(self.layer, ImageOverlay):
            with self.layer.hold_sync():  # url and bounds reach the browser in one message
                self.layer.url, self.layer.bounds = spec.url, spec.bounds
                self.layer.class_name = CRISP_CLASS if spec.crisp else ""
            return
        if isinstance(spec, Tiles) and isinstance(self.layer, ipyleaflet.TileLayer) and self.layer.url == spec.url:
            return
        if spec is self.layer:
            return
        old, self.layer = self.layer, self._make(spec)
        if old is not None:
            self.opacity = getattr(old, "opacity", self.opacity)
            if hasattr(self.layer, "opacity"):
                self.layer.opacity = self.opacity
        self.stack.restack(drop=old)
        close_layer(old)

    def remove(self) -> None:
        """Take the layer off the map and close it."""
        old, self.layer = self.layer, None
        if old is None:
            return
        self.opacity = getattr(old, "opacity", self.opacity)
        m = self.stack.map_if_alive()
        if m is not None and old in m.layers:
            m.layers = tuple(x for x in m.layers if x is not old)
        close_layer(old)

    def close(self) -> None:
        """Take the layer off the map and the slot out of its stack, for good: what a closed panel leaves behind."""
        self.remove()
        self.closed = True
        if self in self.stack.slots:
            self.stack.slots.remove(self)

    def _make(self, spec: Layer | ipyleaflet.Layer) -> ipyleaflet.Layer:
        if isinstance(spec, Overlay):
            return ImageOverlay(
                url=spec.url, bounds=spec.bounds, name=self.name, alt=self.name, attribution=self.attribution,
                class_name=CRISP_CLASS if spec.crisp else "", opacity=self.opacity,
            )  # fmt: skip
        if isinstance(spec, Tiles):
            return ipyleaflet.TileLayer(
                url=spec.url, name=self.name, attribution=spec.attribution or self.attribution,
                opacity=self.opacity, max_zoom=22,
            )  # fmt: skip
        spec.name = self.name
        return spec


def close_layer(layer: ipyleaflet.Layer | None) -> None:
    """Close a layer and what it holds (a group's members), so no widget of it stays alive in the kernel."""
    if layer is None:
        return
    for member in getattr(layer, "layers", ()):
        close_layer(member)
    layer.close()
