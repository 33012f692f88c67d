"""LabelPicker: labels where the user clicks or draws, listed, removed, saved and loaded.

A click on the map labels that point with the class being labelled (``target``); a polygon or rectangle drawn with
the map's one draw tool labels a bounded random sample of its valid pixels (``engines.labels.polygon_points``, in the
background); points off the data are not labels, and the notice says so. Labels are saved as GeoJSON with their
class name, colour, year and 64-vector (``engines.labels.write_labels``) and loaded from GeoJSON or CSV content
(classes matched by name). A part of the classify panel, and a widget of its own: ``LabelPicker(state, map=m)``
edits ``state.class_labels`` wherever it is shown.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import ipywidgets as w
from traitlets import Int

from ..analysis.label_pixels import POLYGON_PIXELS
from ..core.aoi import AOI
from ..core.errors import AEFError
from ..engines.labels import polygon_points, write_labels
from ..sources.labels import LabelPoint, labels_from_bytes, outside
from . import label_edits as edits
from .base import Panel
from .draw_tool import DrawTool
from .exports import export_folder, saved_file_html
from .label_marks import show_labels
from .lifecycle import shared_widget

_WIDE = shared_widget(w.Layout(width="auto"))


class LabelPicker(Panel):
    """``value`` is the list of labels (``LabelPoint``s whose target indexes ``state.label_classes``), kept equal to
    ``state.class_labels``; ``target`` is the class new labels get. Its words go to ``status`` (the owner's status
    line, when given); files go to ``folder()`` (a temporary folder unless given)."""

    target = Int(0, help="index of the class clicks and polygons label")

    def __init__(
        self, state=None, *, status: w.HTML | None = None, folder: Callable[[], Path] | None = None, seed: int = 0,
        polygon_pixels: int = POLYGON_PIXELS, **kwargs,
    ) -> None:  # fmt: skip
        super().__init__(state, status=status, **kwargs)  # a part speaks in its owner's status line
        self.folder = folder or export_folder()
        self.seed, self.max_polygon_pixels = seed, polygon_pixels
        if not self.state.label_classes:
            self.state.label_classes = edits.starting_classes()
        self.picking = w.Checkbox(value=True, description="Add a label where I click or draw", indent=False)
        self.picking.observe(lambda _: self._toggle_draw(), names="value")
        self.notice, self.download = w.HTML(), w.HTML()
        self.notice.add_class("aef-notice")
        self.label_list = w.SelectMultiple(rows=5, layout=_WIDE)
        self.remove_button = w.Button(description="Remove selected", layout=_WIDE)
        self.remove_button.on_click(lambda _: self.remove_labels(self.label_list.value))
        self.clear_button = w.Button(description="Clear labels", layout=_WIDE)
        self.clear_button.on_click(lambda _: self.set_labels([]))
        self.save_button = w.Button(description="Save labels (GeoJSON)", layout=_WIDE)
        self.save_button.on_click(lambda _: self.save_labels())
        self.upload = w.FileUpload(accept=".geojson,.json,.csv", multiple=False, description="Load labels")
        self.upload.observe(self._uploaded, names="value")
        self.marks = self.layer_slot("Labels", "probes")
        self.on_map_interaction(self._map_event)
        self.use_draw_tool("labels", self._drawn, self._draw_words)
        if self.map is not None:
            self.observe(lambda _: DrawTool.of(self.map).refresh(), names="target")
        self.link_value("class_labels")
        self.observe(lambda _: self._labels_changed(), names="value")
        self.listen(self.state, lambda _: self._labels_changed(), "label_classes")
        self._labels_changed()
        self.children = [
            self.picking, self.notice, self.label_list, w.HBox([self.remove_button, self.clear_button]),
            w.HBox([self.save_button, self.upload]), *([self.status] if status is None else []), self.download,
        ]  # fmt: skip
        self.add_class("aef-label-picker")
        self._toggle_draw()

    def add_label(self, lon: float, lat: float, target: int | None = None) -> None:
        """Label the point with the class being labelled (or ``target``), as a click on the map does."""
        self.add_labels([(lon, lat)], target)

    def add_labels(self, points, target: int | None = None) -> None:
        """Label the (lon, lat) points; those off the data are left out, and the notice says how many."""
        target = self.target if target is None else int(target)
        new = [LabelPoint(float(lon), float(lat), target, self.state.year) for lon, lat in points]
        away = outside(new, self.state.source.footprint)
        if away.any():
            words = html.escape(f"{int(away.sum())} of {len(new)} points lie outside the data: not labelled.")
        self.notice.value = f'<span style="color:#b00020">{words}</span>' if away.any() else ""
        self.set_labels([*self.value, *(p for p, off in zip(new, away) if not off)])

    def remove_labels(self, indices) -> None:
        self.set_labels(edits.remove_labels(self.value, indices))

    def set_labels(self, labels) -> None:
        """The one place the labels change (the state follows through ``value``)."""
        self.value = list(labels)

    def label_polygon(self, polygon: AOI, target: int | None = None) -> None:
        """Label a bounded random sample of the polygon's valid pixels with the class (in the background)."""
        target = self.target if target is None else int(target)
        source, year, n, seed = self.state.source, self.state.year, self.max_polygon_pixels, self.seed
        self.show_status("Sampling the polygon's pixels…", "busy")

        def done(points) -> None:
            self.show_status(f"{len(points)} pixels of the polygon labelled.", "ok")
            self.add_labels(points, target)

        work = lambda job: polygon_points(source, polygon, year, n, seed)  # noqa: E731
        self.runner.submit("polygon", work, done, self.show_error, label="sampling the polygon")

    def save_labels(self, path: str | Path | None = None) -> None:
        """Write the labels as GeoJSON (class name and colour, year, lon/lat, the 64-vector of the year shown)."""
        labels, classes = list(self.value), list(self.state.label_classes)
        source, year = self.state.source, self.state.year
        if not labels:
            self.show_status("There are no labels to save.", "error")
            return
        path = Path(path) if path is not None else self.folder() / f"aef_labels_{year}.geojson"

        def done(link: str) -> None:
            self.download.value = link
            self.show_status(f"{len(labels)} labels saved.", "ok")

        work = lambda job: saved_file_html(write_labels(path, labels, classes, source, year))  # noqa: E731
        self.runner.submit("save-labels", work, done, self.show_error, label="saving labels")

    def load_labels(self, content: bytes, name: str) -> None:
        """Add labels from a file's content (GeoJSON or CSV, by ``name``); classes are matched by name."""
        state = self.state
        try:
            loaded = labels_from_bytes(content, name)
            classes, labels, away = edits.from_disk(loaded, state.label_classes, state.source.footprint, state.year)
        except AEFError as e:
            self.show_error(e)
            return
        with state.hold_trait_notifications():  # new classes arrive with their labels
            state.label_classes = classes
            self.set_labels([*self.value, *labels])
        lost = f"; {away} lie outside the data and were left out" if away else ""
        self.show_status(f"{len(labels)} labels loaded from {Path(name).name}{lost}.", "error" if away else "ok")

    def _uploaded(self, change) -> None:
        files = change["new"]
        if files:
            self.load_labels(bytes(files[0]["content"]), str(files[0]["name"]))

    def _labels_changed(self) -> None:
        # read from the state: within a held change of classes and labels, both are already the new ones
        classes, labels = self.state.label_classes, self.state.class_labels
        self.label_list.options = [
            (f"{classes[p.target][0] if p.target < len(classes) else '?'} at {p.lon:.5f}, {p.lat:.5f}", i)
            for i, p in enumerate(labels)
        ]
        show_labels(self.marks, labels, classes)

    def _map_event(self, **event) -> None:
        if event.get("type") != "click" or not self.picking.value:
            return
        lat, lon = event["coordinates"]
        self.add_label(lon, lat)
        stack = self.layer_stack()
        if stack is not None:
            stack.bring_to_top("classes")  # the class map the new label changes is what the user looks at

    def _toggle_draw(self) -> None:
        """While clicks label, the map's one draw tool labels too; then it goes back to whoever had it (the AOI)."""
        if self.map is None:
            return
        tool = DrawTool.of(self.map)
        if self.picking.value:
            tool.take("labels")
        else:
            tool.release("labels")

    def _draw_words(self) -> str:
        classes, target = self.state.label_classes, self.target
        name = classes[target][0] if 0 <= target < len(classes) else "the chosen class"
        return f"Drawing on the map labels {name}"

    def _drawn(self, geo_json: dict) -> None:
        try:
            self.label_polygon(AOI.from_geojson(geo_json))
        except AEFError as e:
            self.show_error(e)
