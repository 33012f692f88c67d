"""One named layer of ours on a map: updated in place so it never flickers, stacked so new results show."""

from __future__ import annotations

import itertools

import ipyleaflet
from traitlets import Unicode

from ..engines.base import Layer, Tiles
from ..rendering.overlay import Overlay

#: Our layers, bottom to top: basemaps below everything, then the RGB composite, then the analysis results (the
#: newest result on top, so a fresh k-means run is never hidden under an older similarity map), then the AOI
#: outline and the probe markers.
Z_ORDER = ("rgb", "change", "changed", "clusters", "similarity", "matches", "aoi", "probes")
_BASE, _RESULTS, _MARKS = 0, 1, 2
_GROUP = {"rgb": _BASE, "aoi": _MARKS, "probes": _MARKS}
CRISP_CLASS = "aef-crisp"
#: Highlights of pixels above a threshold start half-transparent, so the map under them stays readable.
START_OPACITY = {"matches": 0.6, "changed": 0.6}
_stamps = itertools.count()


class ImageOverlay(ipyleaflet.ImageOverlay):
    """An image overlay with a CSS class on its <img>, so categorical images can be drawn pixelated."""

    class_name = Unicode("").tag(sync=True, o=True)
    """CSS class of the <img>, set when the image is created."""

    alt = Unicode("").tag(sync=True, o=True)
    """Alternative text of the <img> (the layer's name): for screen readers, and to find a layer in the page."""


class LayerSlot:
    """Shows, updates and removes one named layer on a map."""

    def __init__(self, m: ipyleaflet.Map, name: str, kind: str, attribution: str = "") -> None:
        if kind not in Z_ORDER:
            raise ValueError(f"unknown layer kind {kind!r}")
        self.map, self.name, self.kind, self.attribution = m, name, kind, attribution
        self.layer: ipyleaflet.Layer | None = None
        self.opacity = START_OPACITY.get(kind, 1.0)
        self.stamp = next(_stamps)

    def raise_(self) -> None:
        """Put this layer above the other results (it shows something new)."""
        self.stamp = next(_stamps)
        if self.layer is not None:
            self.layer._aef_order = self._order()
            self._restack(self.layer, None)

    def _order(self) -> tuple[int, int, int]:
        return (_GROUP.get(self.kind, _RESULTS), self.stamp, Z_ORDER.index(self.kind))

    def show(self, spec: Layer | ipyleaflet.Layer | None) -> None:
        """Draw ``spec`` (an image, tiles, or a ready-made layer); None removes the layer."""
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
        self._replace(self._make(spec))

    def remove(self) -> None:
        if self.layer is not None:
            if self.layer in self.map.layers:
                self.opacity = getattr(self.layer, "opacity", self.opacity)
                self.map.remove(self.layer)
            self.layer = None

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

    def _replace(self, layer: ipyleaflet.Layer) -> None:
        old = self.layer
        if old is not None:
            self.opacity = getattr(old, "opacity", self.opacity)
        layer._aef_kind = self.kind
        layer._aef_order = self._order()
        self.layer = layer
        self._restack(layer, old)

    def _restack(self, layer: ipyleaflet.Layer, old: ipyleaflet.Layer | None) -> None:
        ours = [x for x in self.map.layers if hasattr(x, "_aef_kind") and x is not old and x is not layer]
        others = [x for x in self.map.layers if not hasattr(x, "_aef_kind")]
        ours.append(layer)
        ours.sort(key=lambda x: x._aef_order)
        self.map.layers = tuple(others + ours)
