"""SimilarityProbe: click the map, see how similar every pixel is to the clicked one(s)."""

from __future__ import annotations

import html

import ipyleaflet
from ipywidgets import HTML, Button, Checkbox, FloatSlider, Layout

from ..core.errors import NoDataAtPoint
from ..engines.base import SimilarityProduct
from ..rendering.legend import colorbar_html
from .base import Panel
from .layer_slot import LayerSlot
from .thresholded_map import ThresholdedMap


class SimilarityProbe(Panel):
    """Reference pixels picked by clicking the map; ``value`` is their list of (lon, lat).

    Each click adds a reference (their similarities are averaged). The map shows the similarity of every pixel,
    the matches above a threshold, and their area. ``product`` holds the latest ``SimilarityProduct``.
    """

    def __init__(self, state=None, **kwargs) -> None:
        super().__init__(state, **kwargs)
        self.product: SimilarityProduct | None = None
        self.picking = Checkbox(value=True, description="Add a reference where I click", indent=False)
        self.threshold = FloatSlider(
            min=0.0, max=1.0, step=0.01, description="Threshold", readout_format=".2f", layout=Layout(width="auto")
        )
        self.bind(self.threshold, "similarity_threshold")
        self.clear = Button(description="Clear references", layout=Layout(width="auto"))
        self.clear.on_click(lambda _: setattr(self, "value", []))
        self.notice = HTML()
        self.notice.add_class("aef-notice")
        self.readout = HTML()
        self.readout.add_class("aef-similarity-readout")
        self.colorbar = HTML()
        self.map_layers = ThresholdedMap(
            self, "similarity_threshold", ("Similarity", "Similarity matches"), ("similarity", "matches"),
            above=lambda product, t, view: product.matches_layer(t, view),
            area=lambda product, t, view: product.matches_area(t, view), label="Matches",
        )  # fmt: skip
        self.matches = self.map_layers.area_text
        self.markers = LayerSlot(self.map, "Similarity references", "probes") if self.map is not None else None
        if self.map is not None:
            self.map.on_interaction(self._map_event)
        self.value = list(self.state.probe_points)
        # not a traitlets link: a click off the data is taken back while its own change is being handled
        self.state.observe(self._points_changed, names="probe_points")
        self.observe(self._value_set, names="value")
        self.state.observe(self._recompute, names=["year", "source", "aoi"])
        hint = HTML("Click the map to pick a reference pixel; more clicks add references.")
        self.children = [
            hint, self.picking, self.notice, self.readout, self.colorbar, self.threshold, self.matches, self.clear,
            self.status,
        ]  # fmt: skip
        self.add_class("aef-similarity-probe")
        self._recompute()

    def add_reference(self, lon: float, lat: float) -> None:
        """Add a reference pixel, as a click on the map does."""
        self.state.probe_points = [*self.state.probe_points, (float(lon), float(lat))]

    def _points_changed(self, change) -> None:
        self.value = list(change["new"])
        self._recompute()

    def _value_set(self, change) -> None:
        if list(change["new"]) != list(self.state.probe_points):
            self.state.probe_points = list(change["new"])

    def _map_event(self, **event) -> None:
        if event.get("type") == "click" and self.picking.value:
            lat, lon = event["coordinates"]
            self.notice.value = ""
            self.add_reference(lon, lat)

    def _recompute(self, _change=None) -> None:
        points = list(self.state.probe_points)
        self._draw_markers(points)
        if not points:
            self.runner.cancel("similarity")
            self.product = None
            self.map_layers.show(None)
            self.readout.value = self.colorbar.value = ""
            self.show_status("")
            return
        state = self.state
        year, aoi = state.year, state.aoi
        self.show_status("Computing similarity…", "busy")

        def failed(error: BaseException) -> None:
            if isinstance(error, NoDataAtPoint) and list(self.state.probe_points) == points:
                # the click was off the data: say so, and keep the references that were fine
                self.notice.value = f'<span style="color:#b00020">{html.escape(str(error))}</span>'
                self.state.probe_points = points[:-1]
            else:
                self.show_error(error)

        self.runner.submit("similarity", lambda: state.engine.similarity(year, points, aoi), self._computed, failed)

    def _computed(self, product: SimilarityProduct) -> None:
        self.product = product
        n = len(self.state.probe_points)
        refs = "the reference" if n == 1 else f"the mean of {n} references"
        self.readout.value = f"Similarity at the last reference: <b>{product.readout:.2f}</b> (to {refs})"
        label = "Similarity (cosine of the embeddings)"
        self.colorbar.value = colorbar_html(product.cmap, product.vmin, product.vmax, label)
        self.show_status("")
        self.map_layers.show(product)

    def _draw_markers(self, points: list[tuple[float, float]]) -> None:
        if self.markers is None:
            return
        if not points:
            self.markers.remove()
            return
        markers = [
            ipyleaflet.CircleMarker(
                location=(lat, lon), radius=6, color="#ffffff", weight=2, fill_color="#e6007e", fill_opacity=1
            )
            for lon, lat in points
        ]
        self.markers.show(ipyleaflet.LayerGroup(layers=markers))
