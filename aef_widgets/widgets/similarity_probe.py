"""SimilarityProbe: click the map, see how similar every pixel is to the clicked one(s)."""

from __future__ import annotations

import html
from pathlib import Path

import ipyleaflet
from ipywidgets import HTML, Button, Checkbox, FloatSlider, Layout, ToggleButtons

from ..core.errors import NoDataAtPoint, NoDataError
from ..engines.base import SimilarityProduct
from ..products.similarity import SIMILARITY
from ..rendering.colors import NEGATIVE_COLOR, PROBE_COLOR
from ..rendering.legend import colorbar_html
from .base import Computed, Panel
from .layer_stack import close_layer
from .search_wider import SearchWider
from .thresholded_layers import ThresholdedLayers


class SimilarityProbe(Panel):
    """Reference pixels picked by clicking the map; ``value`` is their list of (lon, lat).

    Each click adds a reference. A pixel's similarity is the mean of its cosines to the references. The map shows
    it for every pixel, the matches above a threshold, and their area. ``product`` holds the latest
    ``SimilarityProduct``. References marked "not like that" (``state.negative_points``) make the score the mean
    cosine to the positives minus the mean cosine to the negatives (``contrast_score``), on both engines.
    ``wider`` ("Search wider") finds the best matches of the references over a larger region (``SearchWider``);
    its exports go to ``export_dir`` (a temporary folder unless given).
    """

    def __init__(self, state=None, *, export_dir: str | Path | None = None, **kwargs) -> None:
        super().__init__(state, **kwargs)
        self.picking = Checkbox(value=True, description="Add a reference where I click", indent=False)
        self.threshold = FloatSlider(
            min=0.0, max=1.0, step=0.01, description="Threshold", readout_format=".2f", layout=Layout(width="auto")
        )
        self.bind(self.threshold, "similarity_threshold")
        self.clear = Button(description="Clear references", layout=Layout(width="auto"))
        self.clear.on_click(lambda _: self._clear_all())
        self.kind = ToggleButtons(
            options=[("Like this", "positive"), ("Not like that", "negative")], value="positive",
            tooltips=["The next click is an example of what to find", "The next click is an example of what not"],
        )  # fmt: skip
        self._last_negative = False
        self.notice = HTML()
        self.notice.add_class("aef-notice")
        self.readout = HTML()
        self.readout.add_class("aef-similarity-readout")
        self.colorbar = HTML()
        self.map_layers = ThresholdedLayers.declared(self, SIMILARITY, label="Matches")
        self.matches = self.map_layers.area_text
        # the values layer is drawn in the product's job: a click is one job, loop -> worker -> loop
        self.computed = Computed(
            self, "similarity", self._prepare, self._show, label="similarity", fail=self._failed,
            layers=(self.map_layers.values_layer,),
        )  # fmt: skip
        self.markers = self.layer_slot("Similarity references", "probes")
        self.negative_markers = self.layer_slot("Similarity negatives", "probes")
        self._group: ipyleaflet.LayerGroup | None = None
        self.on_map_interaction(self._map_event)
        self.value = list(self.state.probe_points)
        # kept equal by hand, from current values: a click off the data is taken back while its change is handled
        self.observe(lambda _: self._sync("probe_points", self.value), names="value")
        self.listen(self.state, lambda _: self._sync_value(), "probe_points")
        self.wider = SearchWider(self.state, map=self.map, runner=self.runner, add_reference=self.add_reference,
                                 export_dir=export_dir)  # fmt: skip
        hint = HTML("Click the map to pick a reference pixel; more clicks add references.")
        self.children = [
            hint, self.picking, self.kind, self.notice, self.readout, self.colorbar, self.threshold, self.matches,
            self.clear, self.status, self.wider,
        ]  # fmt: skip
        self.add_class("aef-similarity-probe")
        self.computed.update()

    @property
    def product(self) -> SimilarityProduct | None:
        """The similarity shown, if any."""
        return self.flow.values.get("similarity")

    def add_reference(self, lon: float, lat: float, negative: bool | None = None) -> None:
        """Add a reference pixel, as a click on the map does (a negative one when the toggle says so)."""
        self.notice.value = ""
        self._last_negative = self.kind.value == "negative" if negative is None else bool(negative)
        if self._last_negative:
            self.state.negative_points = [*self.state.negative_points, (float(lon), float(lat))]
        else:
            self.set_references([*self.value, (float(lon), float(lat))])

    def _clear_all(self) -> None:
        with self.state.hold_trait_notifications():
            self.state.negative_points = []
            self.set_references([])

    def set_references(self, points: list[tuple[float, float]]) -> None:
        """The one place the references change (the state follows through ``value``)."""
        self.value = list(points)

    def _sync(self, name: str, value: list) -> None:
        if list(getattr(self.state, name)) != list(value):
            setattr(self.state, name, list(value))

    def _sync_value(self) -> None:
        if list(self.value) != list(self.state.probe_points):
            self.value = list(self.state.probe_points)

    def _map_event(self, **event) -> None:
        if event.get("type") == "click" and self.picking.value:
            lat, lon = event["coordinates"]
            self.add_reference(lon, lat)
            self.layer_stack().bring_to_top("similarity")

    def _prepare(self):
        state = self.state
        points, year, aoi, engine = list(state.probe_points), state.year, state.aoi, state.engine
        negatives = list(state.negative_points)
        self._draw_markers(points)
        self._draw_negatives(negatives)
        if not points:
            if negatives:
                self.show_status("Add a reference like what you look for, too.")
            return None
        self.show_status("Computing similarity…", "busy")
        if negatives:
            return lambda job: engine.similarity(year, points, aoi, negatives)
        return lambda job: engine.similarity(year, points, aoi)

    def _show(self, product: SimilarityProduct | None) -> None:
        self.show_status("")
        self.flow.set("similarity", product)
        if product is None:
            self.readout.value = self.colorbar.value = ""
            return
        key = self.flow.keys["similarity"]
        n, m = len(key["probe_points"]), len(key["negative_points"])
        refs = "this reference alone" if n == 1 else f"the mean of its cosines to all {n} references"
        label = "Similarity (mean cosine to the references)"
        if m:
            refs = f"mean cosine to the {n} positive minus mean cosine to the {m} negative references"
            label = "Score (mean cosine to positives − mean cosine to negatives)"
        self.readout.value = (
            f"Similarity at the reference clicked last: <b>{product.readout:.2f}</b> ({refs}, as the map shows it)"
        )
        self.colorbar.value = colorbar_html(product.cmap, product.vmin, product.vmax, label)

    def _failed(self, error: BaseException) -> None:
        points = list(self.state.probe_points)
        negatives = list(self.state.negative_points)
        if isinstance(error, NoDataError) and self._last_negative and negatives:
            self._last_negative = False
            self.state.negative_points = negatives[:-1]  # the negative clicked off the data
            self.notice.value = f'<span style="color:#b00020">{html.escape(str(error))}</span>'
            self.show_status("")
        elif isinstance(error, NoDataAtPoint) and points:
            # the click was off the data: keep the references that were fine, and say so
            self.set_references(points[:-1])
            self.notice.value = f'<span style="color:#b00020">{html.escape(str(error))}</span>'
            self.show_status("")
        else:
            self.show_error(error)

    def _draw_negatives(self, points: list[tuple[float, float]]) -> None:
        if self.negative_markers is None:
            return
        marks = [
            ipyleaflet.CircleMarker(location=_location(p), radius=6, color="#ffffff", weight=2,
                                    fill_color=NEGATIVE_COLOR, fill_opacity=1)
            for p in points
        ]  # fmt: skip
        self.negative_markers.show(ipyleaflet.LayerGroup(layers=marks) if marks else None)

    def _draw_markers(self, points: list[tuple[float, float]]) -> None:
        """Add and remove markers one by one: a click adds one marker, it does not rebuild them all."""
        if self.markers is None:
            return
        if not points:
            self.markers.remove()
            self._group = None
            return
        if self._group is None or self.markers.layer is not self._group:
            self._group = ipyleaflet.LayerGroup()
            self.markers.show(self._group)
        shown = list(self._group.layers)
        keep = 0
        while keep < min(len(shown), len(points)) and tuple(shown[keep].location) == _location(points[keep]):
            keep += 1
        for marker in shown[keep:]:
            self._group.remove(marker)
            close_layer(marker)
        for point in points[keep:]:
            self._group.add(
                ipyleaflet.CircleMarker(
                    location=_location(point),
                    radius=6,
                    color="#ffffff",
                    weight=2,
                    fill_color=PROBE_COLOR,
                    fill_opacity=1,
                )
            )


def _location(point: tuple[float, float]) -> tuple[float, float]:
    lon, lat = point
    return (lat, lon)
