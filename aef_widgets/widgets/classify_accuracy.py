"""Honest accuracy of a class map, as the classify panel shows it: which method made it and why (``auto``'s
``Choice.reason``), random and spatially blocked cross-validation side by side, the confusion matrix, precision and
recall per class and a learning curve, computed in the background from the labels the map was trained on (a node
of the flow: ``accuracy``)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from ipywidgets import HTML, VBox
from pyproj import Transformer

from ..core.errors import AEFError
from ..core.grid import LONLAT
from ..engines.base import ClassProduct
from ..rendering.charts import accuracy_table_html, confusion_html, learning_curve_svg, precision_recall_svg
from .base import KEEP, Computed, Panel

if TYPE_CHECKING:  # scikit-learn behind these takes seconds to import: loaded when labels are first scored
    from ..analysis.validation import Accuracy, LearningCurve

#: Folds of both schemes; random folds shrink to the rarest class's count.
N_FOLDS = 5
#: Draws per size of the learning curve: enough for a spread, few enough to stay quick as labels are added.
CURVE_REPEATS = 3


@dataclass(frozen=True)
class AccuracyReport:
    """What the panel shows: each scheme's ``Accuracy`` (None, with ``notes`` saying why, if it cannot run), and
    ``choice``, why ``auto`` chose the method ("" when the method was asked for, or chosen on Earth Engine)."""

    method: str
    block_size: float
    random: Accuracy | None
    spatial: Accuracy | None
    curve: LearningCurve | None
    notes: dict
    choice: str = ""


def accuracy_report(product: ClassProduct, crs, block_size: float, seed: int = 0) -> AccuracyReport:
    """Cross-validate the method the map used on the labels it was trained on (both schemes, same folds as
    ``random_folds`` / ``spatial_folds`` give for them)."""
    from ..analysis.classify import EmbeddingClassifier
    from ..analysis.validation import evaluate, learning_curve, random_folds, spatial_folds

    X, y = product.vectors, product.targets
    x, yy = Transformer.from_crs(LONLAT, crs, always_xy=True).transform(product.lonlat[:, 0], product.lonlat[:, 1])
    xy = np.column_stack([x, yy])
    model = EmbeddingClassifier(product.method, random_state=seed)
    notes: dict = {}
    results: dict = {}
    schemes = {
        "random": (lambda: random_folds(y, N_FOLDS, seed), f"random {N_FOLDS}-fold"),
        "spatial": (lambda: spatial_folds(xy, y, block_size, N_FOLDS, seed), f"{block_size:g} m blocks"),
    }
    for name, (folds, scheme) in schemes.items():
        try:
            results[name] = evaluate(model, X, y, folds(), scheme)
        except AEFError as e:  # too few labels or blocks: said in words next to the other scheme
            results[name], notes[name] = None, str(e)
        except ValueError:  # scikit-learn's splitters refuse classes with fewer labels than folds
            results[name], notes[name] = None, f"{scheme}: too few labels of some class (or blocks) for its folds"
    try:
        curve = learning_curve(model, X, y, repeats=CURVE_REPEATS, random_state=seed)
    except (AEFError, ValueError) as e:
        curve, notes["curve"] = None, str(e)
    choice = getattr(getattr(product, "model", None), "choice_", None)  # the local engine's fitted model
    reason = choice.reason if choice is not None else ""
    return AccuracyReport(product.method, block_size, results["random"], results["spatial"], curve, notes, reason)


class AccuracyView:
    """The accuracy of the class map shown by ``panel``; ``report`` is the latest ``AccuracyReport``."""

    def __init__(self, panel: Panel) -> None:
        self.panel = panel
        self.report: AccuracyReport | None = None
        #: The last report and what it was computed from: a class map of the same labels elsewhere has the same one
        self._last: tuple[tuple, AccuracyReport] | None = None
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
        crs, block = self.panel.state.source.footprint.crs, self.panel.state.cv_block_size
        inputs = (product.vectors, product.targets, product.lonlat, product.method, crs, block)
        last = self._last
        if last is not None and all(
            a is b if isinstance(a, np.ndarray) else a == b for a, b in zip(last[0], inputs, strict=True)
        ):  # the same labels' vectors (the local engine keeps them while only the AOI or the view moves)
            return lambda job: last[1]
        self.summary.value = "<i>Cross-validating…</i>"

        def work(job) -> AccuracyReport:
            report = accuracy_report(product, crs, block)
            self._last = (inputs, report)
            return report

        return work

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
