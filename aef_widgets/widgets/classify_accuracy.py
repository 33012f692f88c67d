"""Honest accuracy of a class map, as the classify panel shows it: which method made it and why (``auto``'s
``Choice.reason``), random and spatially blocked cross-validation side by side, the confusion matrix, precision and
recall per class and a learning curve. The report is computed by ``engines.accuracy`` in the background from the
labels the map was trained on (a node of the flow: ``accuracy``); this module only shows it."""

from __future__ import annotations

import html

from ipywidgets import HTML, VBox

from ..engines.accuracy import AccuracyReport, AccuracyReports
from ..engines.base import ClassProduct
from ..rendering.charts import accuracy_table_html, confusion_html, learning_curve_svg, precision_recall_svg
from .base import KEEP, Computed, Panel


class AccuracyView:
    """The accuracy of the class map shown by ``panel``; ``report`` is the latest ``AccuracyReport``."""

    def __init__(self, panel: Panel) -> None:
        self.panel = panel
        self.report: AccuracyReport | None = None
        #: Reports by what they were computed from: a class map of the same labels elsewhere has the same one
        self.reports = AccuracyReports()
        self.summary, self.confusion, self.bars, self.curve = HTML(), HTML(), HTML(), HTML()
        self.summary.add_class("aef-accuracy-summary")
        self.box = VBox([self.summary, self.confusion, self.bars, self.curve])
        self.node = Computed(panel, "accuracy", self._prepare, self._show, label="cross-validating", heavy=True)

    def _prepare(self):
        flow = self.panel.flow
        product: ClassProduct | None = flow.values.get("classes")
        if product is None:
            return None
        if not flow.is_current("classes"):
            return KEEP
        crs, block, reports = self.panel.state.source.footprint.crs, self.panel.state.cv_block_size, self.reports
        known = reports.known(product, crs, block)
        if known is not None:  # the same labels' vectors (the local engine keeps them while only the AOI moves)
            return lambda job: known
        self.summary.value = "<i>Cross-validating…</i>"
        return lambda job: reports.compute(product, crs, block)

    def _show(self, report: AccuracyReport | None) -> None:
        self.report = report
        if report is None:
            self.summary.value = self.confusion.value = self.bars.value = self.curve.value = ""
            return
        classes = self.panel.state.label_classes
        rows = []
        for css, accuracy, name, why in (
            ("aef-cv-random", report.random, "Random folds", "upper bound: neighbours of test pixels are trained on"),
            ("aef-cv-spatial", report.spatial, "Spatial blocks", "honest: no neighbouring block on both sides"),
        ):
            note = why if accuracy is None else f"{accuracy.scheme}; {why}"
            note = report.notes.get(css[7:], note)
            mean = None if accuracy is None else accuracy.mean
            rows.append((css, name, mean, None if accuracy is None else accuracy.std, note))
        chosen = f'<div class="aef-method-choice">Chosen by auto: {html.escape(report.choice)}.</div>'
        self.summary.value = (
            (chosen if report.choice else "")
            + f"<b>Accuracy</b> of {report.method} by cross-validation on the labels"
            + accuracy_table_html(rows)
        )
        shown = report.spatial or report.random
        if shown is None:
            self.confusion.value = self.bars.value = ""
        else:
            names = [_name(classes, c) for c in shown.classes]
            colors = [_color(classes, c) for c in shown.classes]
            which = "spatial blocks" if shown is report.spatial else "random folds"
            self.confusion.value = confusion_html(shown.confusion, names, f"Confusion matrix ({which})")
            self.bars.value = precision_recall_svg(
                names, colors, shown.precision, shown.recall, f"Precision and recall per class ({which})"
            )
        curve = report.curve
        self.curve.value = learning_curve_svg(
            list(curve.labels_per_class) if curve else [], list(curve.mean) if curve else [],
            list(curve.std) if curve else [], "Learning curve: accuracy on the other labels",
        )  # fmt: skip


def _name(classes, index: int) -> str:
    return classes[index][0] if 0 <= index < len(classes) else f"class {index}"


def _color(classes, index: int) -> str:
    return classes[index][1] if 0 <= index < len(classes) else "#888888"
