"""Honest accuracy of a class map: the method the map used, cross-validated on the labels it was trained on, with
random and spatially blocked folds side by side, plus a learning curve, and why ``auto`` chose the method.

The numbers are ``analysis.validation``'s (``evaluate`` on ``random_folds`` / ``spatial_folds``); this module
gives them the class map's labels in the source's metres, says in words why a scheme cannot run, and remembers the
last report: a class map of the same labels elsewhere (an AOI drawn, the view moved) is the same model on the same
labels, so its accuracy is not cross-validated again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pyproj import Transformer

from ..core.errors import AEFError
from ..core.grid import LONLAT
from .base import ClassProduct

if TYPE_CHECKING:  # scikit-learn behind these takes seconds to import: loaded when labels are first scored
    from ..analysis.validation import Accuracy, LearningCurve

#: Folds of both schemes; random folds shrink to the rarest class's count.
N_FOLDS = 5
#: Draws per size of the learning curve: enough for a spread, few enough to stay quick as labels are added.
CURVE_REPEATS = 3


@dataclass(frozen=True)
class AccuracyReport:
    """Each scheme's ``Accuracy`` (None, with ``notes`` saying why, if it cannot run), the learning curve, and
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
    ``random_folds`` / ``spatial_folds`` give for them); ``crs`` is the source's, whose metres the blocks are in."""
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


class AccuracyReports:
    """``accuracy_report`` remembering its last answer: asked again for the same labels' vectors (the very arrays:
    the local engine keeps them while only the AOI or the view moves), method, CRS and block size, it is reused."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._last: tuple[tuple, AccuracyReport] | None = None

    @staticmethod
    def _inputs(product: ClassProduct, crs, block_size: float) -> tuple:
        return (product.vectors, product.targets, product.lonlat, product.method, crs, block_size)

    def known(self, product: ClassProduct, crs, block_size: float) -> AccuracyReport | None:
        """The report already computed from these inputs, if it is the last one."""
        last, inputs = self._last, self._inputs(product, crs, block_size)
        if last is not None and all(
            a is b if isinstance(a, np.ndarray) else a == b for a, b in zip(last[0], inputs, strict=True)
        ):
            return last[1]
        return None

    def compute(self, product: ClassProduct, crs, block_size: float) -> AccuracyReport:
        """Cross-validate (in the background: seconds for ``auto`` or a forest) and remember the answer."""
        report = accuracy_report(product, crs, block_size, self.seed)
        self._last = (self._inputs(product, crs, block_size), report)
        return report
