"""ClassifyPanel: label a few places per class, get a class map with its confidence, areas and honest accuracy.

The panel composes widgets of their own: ``ClassEditor`` (the classes: add, rename, recolour, delete, "Label as"),
``LabelPicker`` (labels by click and polygon, listed, saved and loaded), ``AccuracyView`` and ``ModelFiles``; it
shows the class map, its legend, confidence, suggestions and export. The model is fitted and cross-validated by
the engines (``engine.classes``, ``engines.accuracy``), in the background.
"""

from __future__ import annotations

from pathlib import Path

import ipywidgets as w
from traitlets import dlink

from ..analysis.label_pixels import POLYGON_PIXELS
from ..core.errors import AEFError
from ..engines.base import ClassProduct
from ..rendering.legend import table_html
from . import label_edits as edits
from .base import Computed, Panel, ProductLayer
from .class_editor import ClassEditor
from .classify_accuracy import AccuracyView
from .classify_model import ModelFiles
from .exports import export_folder, saved_file_html
from .label_marks import show_suggestions
from .label_picker import LabelPicker
from .lifecycle import shared_widget

#: How many places "Suggest where to label next" marks.
N_SUGGESTIONS = 8
_WIDE = shared_widget(w.Layout(width="auto"))


class ClassifyPanel(Panel):
    """Classes with a name and colour, labelled by clicks and polygons; ``value`` is the list of labels.

    Each label is a ``LabelPoint`` whose target is the index of its class in ``state.label_classes``. With labels
    of two classes or more, the AOI (else the current view) is classified in the background, again whenever the
    labels, year, source or AOI change; accuracy by random and by spatially blocked cross-validation follows.
    ``classes`` (a ``ClassEditor``) and ``labels`` (a ``LabelPicker``) are its parts; their controls and edits are
    also reachable under the names the panel has always had (``panel.active``, ``panel.add_labels``, ...).
    """

    def __init__(
        self, state=None, *, export_dir: str | Path | None = None, seed: int = 0, method: str = "auto",
        polygon_pixels: int = POLYGON_PIXELS, **kwargs,
    ) -> None:  # fmt: skip
        super().__init__(state, **kwargs)
        self.seed, self.method = seed, method
        self.export_dir = Path(export_dir) if export_dir is not None else None
        self._folder = export_folder(export_dir)
        shared = dict(map=self.map, runner=self.runner, status=self.status)
        self.classes = ClassEditor(self.state, **shared)
        self.labels = LabelPicker(self.state, folder=self._folder, seed=seed, polygon_pixels=polygon_pixels, **shared)
        self._detach += [self.labels.close, self.classes.close]
        self._detach.append(dlink((self.classes.active, "value"), (self.labels, "target"), lambda v: v or 0).unlink)
        for part, names in ((self.classes, "active class_name class_color add_button rename_button recolor_button "
                                           "delete_button new_class"),
                            (self.labels, "picking notice label_list remove_button clear_button save_button upload "
                                          "add_label add_labels remove_labels set_labels label_polygon save_labels "
                                          "load_labels")):  # fmt: skip
            for name in names.split():  # the names the panel has always offered, for code written against it
                setattr(self, name, getattr(part, name))
        self.show_confidence = w.Checkbox(value=False, description="Show confidence (top probability)", indent=False)
        self.block_size = w.FloatText(description="Block (m)", layout=w.Layout(width="14em"))
        self.bind(self.block_size, "cv_block_size")
        self.suggest_button = w.Button(description="Suggest where to label next", layout=_WIDE)
        self.suggest_button.on_click(lambda _: self.suggest())
        self.export_button = w.Button(description="Export GeoTIFF", disabled=True, layout=_WIDE)
        self.export_button.on_click(lambda _: self._export_clicked())
        self.legend, self.download = w.HTML(), w.HTML()
        self.legend.add_class("aef-classify-legend")
        self.suggestions: list[tuple[float, float]] = []
        self._want_suggestions = False
        self.suggestion_marks = self.layer_slot("Suggestions", "suggestions")
        self.computed = Computed(self, "classes", self._prepare, self._show, label="classifying", heavy=True)
        self.layer = ProductLayer(self, "classes layer", "classes", "Classes", "classes",
                                  draw=lambda product, ctx, view: product.layer(ctx, view, self.colors))  # fmt: skip
        self.confidence = ProductLayer(self, "confidence layer", "classes", "Confidence", "confidence",
                                       draw=self._draw_confidence)  # fmt: skip
        self.show_confidence.observe(lambda _: self.confidence.node.update(force=True), names="value")
        self.accuracy = AccuracyView(self)
        self.model_files = ModelFiles(self)
        self.suggested = Computed(
            self, "suggestions", self._prepare_suggestions, self._show_suggestions,
            key=lambda: self.flow.key("suggestions").without("view"), label="finding doubtful pixels",
        )  # fmt: skip
        self.link_value("class_labels")
        self.observe(lambda _: self._legend(), names="value")
        self.listen(self.state, lambda _: self._legend(), "label_classes")
        self._legend()
        self.children = [
            w.HTML("Pick a class, then click the map (or draw a polygon) where it is."), self.classes, self.labels,
            self.status, self.legend, self.show_confidence, w.HBox([self.suggest_button, self.export_button]),
            self.download, self.model_files.box, self.block_size, self.accuracy.box,
        ]  # fmt: skip
        self.add_class("aef-classify-panel")
        self.computed.update()

    @property
    def colors(self) -> list[str]:
        return [color for _, color in self.state.label_classes]

    @property
    def product(self) -> ClassProduct | None:
        """The class map shown, if any."""
        return self.flow.values.get("classes")

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

    def _draw_confidence(self, product: ClassProduct, ctx, view):
        return product.confidence_layer(ctx, view) if self.show_confidence.value else None

    def _legend(self) -> None:
        classes, labels, product = self.state.label_classes, self.state.class_labels, self.product
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
        show_suggestions(self.suggestion_marks, self.suggestions, self.labels.add_label)
        if points is not None and not points:
            self.show_status("This engine cannot tell where the map is least sure.", "error")

    def export(self, path: str | Path | None = None) -> Path | None:
        """Write the class map shown as a uint8 GeoTIFF with the classes' colours (255 = no data)."""
        product, ctx = self.product, self.state.engine.context
        if product is None:
            self.show_status("Label two classes first.", "error")
            return None
        try:
            written = product.export(ctx, path or self._folder() / f"aef_classes_{product.year}.tif", self.colors)
        except AEFError as e:
            self.show_error(e)
            return None
        self.download.value = saved_file_html(written)
        self.show_status("Exported.", "ok")
        return written

    def _export_clicked(self) -> None:
        """The button's export: written in the background, shown only if that class map is still the one shown."""
        product, colors, ctx = self.product, self.colors, self.state.engine.context
        if product is None:
            return
        self.show_status("Writing the GeoTIFF…", "busy")
        path = self._folder() / f"aef_classes_{product.year}.tif"

        def done(link: str) -> None:
            if self.product is product:
                self.download.value = link
                self.show_status("Exported.", "ok")

        work = lambda job: saved_file_html(product.export(ctx, path, colors))  # noqa: E731
        self.runner.submit("export", work, done, self.show_error, label="export", heavy=True)
