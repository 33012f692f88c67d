"""SimilarityProbe: click the map, see how similar every pixel is to the clicked one(s)."""

from __future__ import annotations

import html

import ipyleaflet
from ipywidgets import HTML, Button, Checkbox, FloatSlider, Layout

from ..core.errors import NoDataAtPoint
from ..engines.base import SimilarityProduct
from ..rendering.legend import colorbar_html
from .base import VIEW_DEBOUNCE_S, Panel, ProductLayer
from .layer_slot import LayerSlot


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
        self.matches = HTML()
        self.layer = ProductLayer(self, "Similarity", "similarity")
        self.matches_layer = ProductLayer(
            self, "Similarity matches", "matches",
            draw=lambda product, view: product.matches_layer(self.state.similarity_threshold, view),
        )  # fmt: skip
        self.markers = LayerSlot(self.map, "Similarity references", "probes") if self.map is not None else None
        if self.map is not None:
            self.map.on_interaction(self._map_event)
        self.value = list(self.state.probe_points)
        # not a traitlets link: a click off the data is taken back while its own change is being handled
        self.state.observe(self._points_changed, names="probe_points")
        self.observe(self._value_set, names="value")
        self.state.observe(self._recompute, names=["year", "source", "aoi"])
        self.state.observe(self._threshold_moved, names="similarity_threshold")
        self.state.observe(self._view_moved, names="view")
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
            self.layer.set(None)
            self.matches_layer.set(None)
            self.readout.value = self.colorbar.value = self.matches.value = ""
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
        self.layer.set(product)
        self.matches_layer.set(product)
        self._measure()

    def _threshold_moved(self, _change) -> None:
        if self.product is not None:
            self.matches_layer.refresh(delay=0.05)
            self._measure(delay=0.05)

    def _view_moved(self, _change) -> None:
        if self.product is not None and self.state.aoi is None:  # areas are measured in the view
            self._measure(delay=VIEW_DEBOUNCE_S)

    def _measure(self, delay: float = 0.0) -> None:
        product, threshold, view = self.product, self.state.similarity_threshold, self.current_view()
        if product is None:
            return

        def show(summary) -> None:
            self.matches.value = f"Matches (≥ {threshold:.2f}): {summary.describe()}"

        def work():
            return product.matches_area(threshold, view)

        self.runner.submit("similarity-area", work, show, self.show_error, delay)

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
