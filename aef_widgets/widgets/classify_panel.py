"""ClassifyPanel: label a few places per class, get a class map with its confidence, areas and honest accuracy."""

from __future__ import annotations

import html
import tempfile
import time
from pathlib import Path

import ipywidgets as w

from ..analysis.label_pixels import POLYGON_PIXELS
from ..core.aoi import AOI
from ..core.errors import AEFError, LabelsError
from ..engines.base import ClassProduct
from ..rendering.legend import table_html
from ..sources.labels import LabelPoint, labels_from_bytes, outside, save_labels
from . import label_edits as edits
from .base import Computed, Panel, ProductLayer
from .classify_accuracy import AccuracyView
from .classify_model import ModelFiles
from .draw_tool import DrawTool
from .exports import saved_file_html
from .label_marks import show_labels, show_suggestions
from .lifecycle import relayout, shared_widget

#: How many places "Suggest where to label next" marks.
N_SUGGESTIONS = 8
#: A map click this soon after a click on a suggestion is the same click bubbling up from the ring: ignored.
_BUBBLE_S = 0.5
_WIDE = shared_widget(w.Layout(width="auto"))


class ClassifyPanel(Panel):
    """Classes with a name and colour, labelled by clicks and polygons; ``value`` is the list of labels.

    Each label is a ``LabelPoint`` whose target is the index of its class in ``state.label_classes``. With labels
    of two classes or more, the AOI (else the current view) is classified in the background, again whenever the
    labels, year, source or AOI change; accuracy by random and by spatially blocked cross-validation follows.
    """

    def __init__(
        self, state=None, *, export_dir: str | Path | None = None, seed: int = 0, method: str = "auto",
        polygon_pixels: int = POLYGON_PIXELS, **kwargs,
    ) -> None:  # fmt: skip
        super().__init__(state, **kwargs)
        self.seed, self.method, self.max_polygon_pixels = seed, method, polygon_pixels
        self.export_dir = Path(export_dir) if export_dir is not None else None
        if not self.state.label_classes:
            self.state.label_classes = edits.add_class(edits.add_class([], "Class 1"), "Class 2")
        self.active = w.Dropdown(description="Label as", layout=_WIDE)
        self.class_name = w.Text(placeholder="class name", layout=w.Layout(width="10em"))
        self.class_color = w.ColorPicker(concise=True, value=edits.next_color(self.state.label_classes))
        self.add_button, self.rename_button = w.Button(description="Add class"), w.Button(description="Rename")
        self.recolor_button = w.Button(description="Set colour")
        self.delete_button = w.Button(description="Delete class")
        for button, action in ((self.add_button, self.new_class), (self.rename_button, self._rename),
                               (self.recolor_button, self._recolor), (self.delete_button, self._delete)):  # fmt: skip
            relayout(button, _WIDE)
            button.on_click(lambda _, act=action: self._edit(act))
        self.picking = w.Checkbox(value=True, description="Add a label where I click or draw", indent=False)
        self.picking.observe(lambda _: self._toggle_draw(), names="value")
        self.label_list = w.SelectMultiple(rows=5, layout=_WIDE)
        self.remove_button = w.Button(description="Remove selected", layout=_WIDE)
        self.remove_button.on_click(lambda _: self.remove_labels(self.label_list.value))
        self.clear_button = w.Button(description="Clear labels", layout=_WIDE)
        self.clear_button.on_click(lambda _: self.set_labels([]))
        self.save_button = w.Button(description="Save labels (GeoJSON)", layout=_WIDE)
        self.save_button.on_click(lambda _: self.save_labels())
        self.upload = w.FileUpload(accept=".geojson,.json,.csv", multiple=False, description="Load labels")
        self.upload.observe(self._uploaded, names="value")
        self.show_confidence = w.Checkbox(value=False, description="Show confidence (top probability)", indent=False)
        self.block_size = w.FloatText(description="Block (m)", layout=w.Layout(width="14em"))
        self.bind(self.block_size, "cv_block_size")
        self.suggest_button = w.Button(description="Suggest where to label next", layout=_WIDE)
        self.suggest_button.on_click(lambda _: self.suggest())
        self.export_button = w.Button(description="Export GeoTIFF", disabled=True, layout=_WIDE)
        self.export_button.on_click(lambda _: self._export_clicked())
        self.legend, self.download, self.notice = w.HTML(), w.HTML(), w.HTML()
        self.legend.add_class("aef-classify-legend")
        self.notice.add_class("aef-notice")
        self.suggestions: list[tuple[float, float]] = []
        self._want_suggestions, self._bubbled = False, 0.0
        self.label_marks = self.layer_slot("Labels", "probes")
        self.suggestion_marks = self.layer_slot("Suggestions", "suggestions")
        self.computed = Computed(self, "classes", self._prepare, self._show, label="classifying", heavy=True)
        self.layer = ProductLayer(self, "classes layer", "classes", "Classes", "classes",
                                  draw=lambda product, view: product.layer(view, self.colors))  # fmt: skip
        self.confidence = ProductLayer(self, "confidence layer", "classes", "Confidence", "confidence",
                                       draw=self._draw_confidence)  # fmt: skip
        self.show_confidence.observe(lambda _: self.confidence.node.update(force=True), names="value")
        self.accuracy = AccuracyView(self)
        self.model_files = ModelFiles(self)
        self.suggested = Computed(
            self, "suggestions", self._prepare_suggestions, self._show_suggestions,
            key=lambda: self.flow.key("suggestions").without("view"), label="finding doubtful pixels",
        )  # fmt: skip
        self.on_map_interaction(self._map_event)
        self.use_draw_tool("labels", self._drawn, self._draw_words)
        if self.map is not None:
            self.active.observe(lambda _: DrawTool.of(self.map).refresh(), names="value")
        self.value = list(self.state.class_labels)
        self.observe(lambda _: self._to_state(), names="value")
        self.listen(self.state, lambda _: self._from_state(), "class_labels")
        self.listen(self.state, lambda _: self._classes_changed(), "label_classes")
        self._classes_changed()
        self.children = [
            w.HTML("Pick a class, then click the map (or draw a polygon) where it is."), self.active,
            w.HBox([self.class_name, self.class_color]), w.HBox([self.add_button, self.rename_button]),
            w.HBox([self.recolor_button, self.delete_button]), self.picking, self.notice, self.label_list,
            w.HBox([self.remove_button, self.clear_button]), w.HBox([self.save_button, self.upload]), self.status,
            self.legend, self.show_confidence, w.HBox([self.suggest_button, self.export_button]), self.download,
            self.model_files.box, self.block_size, self.accuracy.box,
        ]  # fmt: skip
        self.add_class("aef-classify-panel")
        self._toggle_draw()
        self.computed.update()

    # classes ----------------------------------------------------------------------------------------------------
    @property
    def colors(self) -> list[str]:
        return [color for _, color in self.state.label_classes]

    @property
    def product(self) -> ClassProduct | None:
        """The class map shown, if any."""
        return self.flow.values.get("classes")

    def new_class(self) -> None:
        """A new class named from the name box, in the chosen colour; it becomes the class clicks label."""
        self.state.label_classes = edits.add_class(self.state.label_classes, self.class_name.value,
                                                   self.class_color.value)  # fmt: skip
        self.active.value = len(self.state.label_classes) - 1
        self.class_name.value = ""
        self.class_color.value = edits.next_color(self.state.label_classes)

    def _rename(self) -> None:
        self.state.label_classes = edits.rename_class(
            self.state.label_classes, self.active.value, self.class_name.value
        )

    def _recolor(self) -> None:
        self.state.label_classes = edits.recolor_class(self.state.label_classes, self.active.value,
                                                       self.class_color.value)  # fmt: skip

    def _delete(self) -> None:
        if len(self.state.label_classes) <= 1:
            raise LabelsError("keep at least one class")
        with self.state.hold_trait_notifications():
            classes, labels = edits.delete_class(self.state.label_classes, self.value, self.active.value)
            self.state.label_classes = classes
            self.set_labels(labels)

    def _edit(self, action) -> None:
        try:
            action()
            self.show_status("")
        except AEFError as e:
            self.show_error(e)

    def _classes_changed(self) -> None:
        classes = self.state.label_classes
        current = self.active.value if self.active.value is not None else 0
        self.active.options = [(name, i) for i, (name, _) in enumerate(classes)]
        self.active.value = min(current, len(classes) - 1)
        self._labels_changed()

    # labels -----------------------------------------------------------------------------------------------------
    def add_label(self, lon: float, lat: float, target: int | None = None) -> None:
        """Label the point with the active class (or ``target``), as a click on the map does."""
        self.add_labels([(lon, lat)], target)

    def add_labels(self, points, target: int | None = None) -> None:
        target = self.active.value if target is None else int(target)
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

    def _to_state(self) -> None:
        if list(self.state.class_labels) != list(self.value):
            self.state.class_labels = list(self.value)
        self._labels_changed()

    def _from_state(self) -> None:
        if list(self.value) != list(self.state.class_labels):
            self.value = list(self.state.class_labels)

    def _labels_changed(self) -> None:
        classes, labels = self.state.label_classes, self.value
        self.label_list.options = [
            (f"{classes[p.target][0]} at {p.lon:.5f}, {p.lat:.5f}", i) for i, p in enumerate(labels)
        ]
        show_labels(self.label_marks, labels, classes)
        self._legend()

    def _map_event(self, **event) -> None:
        if event.get("type") != "click" or not self.picking.value:
            return
        if time.monotonic() - self._bubbled < _BUBBLE_S:
            return  # the click on a suggestion's ring, reaching the map too
        lat, lon = event["coordinates"]
        self.add_label(lon, lat)
        self.layer_stack().bring_to_top("classes")

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
        classes, active = self.state.label_classes, self.active.value
        name = classes[active][0] if active is not None and 0 <= active < len(classes) else "the chosen class"
        return f"Drawing on the map labels {name}"

    def _drawn(self, geo_json: dict) -> None:
        try:
            self.label_polygon(AOI.from_geojson(geo_json))
        except AEFError as e:
            self.show_error(e)

    def label_polygon(self, polygon: AOI, target: int | None = None) -> None:
        """Label a bounded random sample of the polygon's valid pixels with the active class (in the background)."""
        target = self.active.value if target is None else int(target)
        source, year, n, seed = self.state.source, self.state.year, self.max_polygon_pixels, self.seed
        self.show_status("Sampling the polygon's pixels…", "busy")

        work = lambda job: edits.polygon_points(source, polygon, year, n, seed)  # noqa: E731

        def done(points) -> None:
            self.show_status(f"{len(points)} pixels of the polygon labelled.", "ok")
            self.add_labels(points, target)

        self.runner.submit("polygon", work, done, self.show_error, label="sampling the polygon")

    # files ------------------------------------------------------------------------------------------------------
    def save_labels(self, path: str | Path | None = None) -> None:
        """Write the labels as GeoJSON (class name and colour, year, lon/lat, the 64-vector of the year shown)."""
        labels, classes, source, year = (
            list(self.value),
            list(self.state.label_classes),
            self.state.source,
            self.state.year,
        )
        if not labels:
            self.show_status("There are no labels to save.", "error")
            return
        path = Path(path) if path is not None else self._folder() / f"aef_labels_{year}.geojson"

        def work(job) -> tuple[Path, str]:
            vectors = source.sample([(p.lon, p.lat) for p in labels], year)
            return path, saved_file_html(save_labels(path, edits.to_disk(labels, classes, vectors)))

        def done(result) -> None:
            self.download.value = result[1]
            self.show_status(f"{len(labels)} labels saved.", "ok")

        self.runner.submit("save-labels", work, done, self.show_error, label="saving labels")

    def load_labels(self, content: bytes, name: str) -> None:
        """Add labels from a file's content (GeoJSON or CSV, by ``name``); classes are matched by name."""
        try:
            loaded = labels_from_bytes(content, name)
            classes, labels, away = edits.from_disk(
                loaded, self.state.label_classes, self.state.source.footprint, self.state.year
            )
        except AEFError as e:
            self.show_error(e)
            return
        with self.state.hold_trait_notifications():
            self.state.label_classes = classes
            self.set_labels([*self.value, *labels])
        lost = f"; {away} lie outside the data and were left out" if away else ""
        self.show_status(f"{len(labels)} labels loaded from {Path(name).name}{lost}.", "error" if away else "ok")

    def _uploaded(self, change) -> None:
        files = change["new"]
        if files:
            self.load_labels(bytes(files[0]["content"]), str(files[0]["name"]))

    # the class map ----------------------------------------------------------------------------------------------
    def _prepare(self):
        state, labels = self.state, list(self.value)
        classes = {p.target for p in labels}
        if len(classes) < 2:
            self._clear()
            if labels:
                self.show_status("Label a second class to see a class map.")
            return None
        points, targets = [(p.lon, p.lat) for p in labels], [p.target for p in labels]
        year, aoi, view, engine, n = state.year, state.aoi, self.current_view(), state.engine, len(state.label_classes)
        method, seed = self.method, self.seed
        self.show_status(f"Classifying {'the AOI' if aoi is not None else 'the view'} of {year}…", "busy")
        return lambda job: engine.classes(year, points, targets, n, aoi, view, method, seed, progress=job.progress)

    def _show(self, product: ClassProduct | None) -> None:
        if product is None:
            self._clear()
            return
        self.flow.set("classes", product)
        self.export_button.disabled = False
        self.download.value = ""
        lost = f" {product.dropped} labels have no data in {product.year} and were left out." if product.dropped else ""
        self.show_status(
            f"Classes of {product.year} {product.scope}, by {product.method} from {len(product.targets)} labels.{lost}",
            "ok",
        )
        self._legend()

    def _clear(self) -> None:
        self.flow.set("classes", None)
        self.export_button.disabled = True
        self._legend()

    def _draw_confidence(self, product: ClassProduct, view):
        return product.confidence_layer(view) if self.show_confidence.value else None

    def _legend(self) -> None:
        classes, labels, product = self.state.label_classes, self.value, self.product
        rows = edits.legend_rows(classes, labels, product.areas if product is not None else None)
        self.legend.value = table_html(("class", "labels", "ha", "%"), rows, [c for _, c in classes])

    # suggestions and export -------------------------------------------------------------------------------------
    def suggest(self) -> None:
        """Mark the places the map is least sure of; a click on a mark labels it with the active class."""
        self._want_suggestions = True
        self.suggested.update(force=True)

    def _prepare_suggestions(self):
        product = self.product
        if not self._want_suggestions or product is None:
            self._show_suggestions(None)
            return None
        return lambda job: product.suggestions(N_SUGGESTIONS)

    def _show_suggestions(self, points) -> None:
        self.suggestions = list(points or [])
        show_suggestions(self.suggestion_marks, self.suggestions, self._suggestion_clicked)
        if points is not None and not points:
            self.show_status("This engine cannot tell where the map is least sure.", "error")

    def _suggestion_clicked(self, lon: float, lat: float) -> None:
        self._bubbled = time.monotonic()
        self.add_label(lon, lat)

    def export(self, path: str | Path | None = None) -> Path | None:
        """Write the class map shown as a uint8 GeoTIFF with the classes' colours (255 = no data)."""
        product = self.product
        if product is None:
            self.show_status("Label two classes first.", "error")
            return None
        try:
            written = product.export(path or self._folder() / f"aef_classes_{product.year}.tif", self.colors)
        except AEFError as e:
            self.show_error(e)
            return None
        self.download.value = saved_file_html(written)
        self.show_status("Exported.", "ok")
        return written

    def _export_clicked(self) -> None:
        """The button's export: written in the background, shown only if that class map is still the one shown."""
        product, colors = self.product, self.colors
        if product is None:
            return
        self.show_status("Writing the GeoTIFF…", "busy")
        path = self._folder() / f"aef_classes_{product.year}.tif"

        def done(link: str) -> None:
            if self.product is product:
                self.download.value = link
                self.show_status("Exported.", "ok")

        work = lambda job: saved_file_html(product.export(path, colors))  # noqa: E731
        self.runner.submit("export", work, done, self.show_error, label="export", heavy=True)

    def _folder(self) -> Path:
        if self.export_dir is None:
            self.export_dir = Path(tempfile.mkdtemp(prefix="aef-export-"))
        return self.export_dir
