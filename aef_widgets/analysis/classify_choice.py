"""How ``auto`` chooses a classifier: logistic regression unless the labels show another method is better.

Picking the best cross-validated method from a few labels per class is mostly picking noise: with 60 labels, one
label is 1.7 points of accuracy, so the method that happens to be right on one or two more held-out labels wins, and
on average it is less accurate than a fixed good method (issue 22 measured 0.888 against logistic regression's
0.902 on real labels). So ``auto`` starts from a principled default, **regularised logistic regression** (the most
accurate method at 10-30 labels per class on the bundled sample and on the real raster: README, Classification),
and switches only when the labels can tell:

- every candidate is cross-validated on the same stratified folds (5, fewer when a class has fewer labels), which
  gives each label one held-out prediction per method;
- a challenger is compared with the default **label by label** (a paired, McNemar exact test): of the labels the
  two disagree on, ``wins`` the challenger gets right and the default wrong, ``losses`` the reverse. Under "no
  difference" each disagreement is a fair coin, so ``p = P(Binomial(wins + losses, 1/2) >= wins)``;
- it switches to the challenger with the most net wins among those with ``p`` below ``ALPHA`` split over the
  challengers (Bonferroni). That needs at least ``ceil(log2(3 / ALPHA))`` = 6 disagreements all one way, so a
  switch happens only with enough labels and a consistent advantage, never on a one-label edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.stats import binom
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict

#: The method ``auto`` keeps unless the labels show another is better.
DEFAULT = "logistic"
#: Family-wise chance of switching away from the default when no challenger is better.
ALPHA = 0.05
#: Folds of the cross-validation ``auto`` compares by (fewer when a class has fewer labels).
AUTO_FOLDS = 5
NAMES = {"logistic": "logistic regression", "forest": "random forest", "knn3": "3-NN", "knn1": "1-NN"}


@dataclass(frozen=True)
class Choice:
    """What ``auto`` chose and why: cross-validated accuracy, and each challenger's paired record against the
    default (``wins``: held-out labels it got right and the default wrong; ``losses``: the reverse; ``p``)."""

    method: str
    folds: int
    n_labels: int
    scores: dict[str, float] = field(default_factory=dict)
    wins: dict[str, int] = field(default_factory=dict)
    losses: dict[str, int] = field(default_factory=dict)
    p: dict[str, float] = field(default_factory=dict)
    alpha: float = ALPHA

    @property
    def reason(self) -> str:
        """One sentence for people: the method and why it, not the default or the best-scoring one."""
        name = NAMES.get(self.method, self.method)
        if self.folds < 2:
            return f"{name}, the default: a class has a single label, so the methods cannot be compared"
        level = self.alpha / max(1, len(self.p))
        if self.method != DEFAULT:
            m = self.method
            return (
                f"{name}: in {self.folds}-fold cross-validation it was right on {self.wins[m]} held-out labels "
                f"where {NAMES[DEFAULT]} was wrong and wrong on {self.losses[m]} where it was right "
                f"(p = {self.p[m]:.3g} < {level:.2g}), so it beats the default"
            )
        best = max(self.p, key=lambda m: (self.wins[m] - self.losses[m], -self.p[m]), default=None)
        if best is None:
            return f"{name}, the default"
        lead = "" if self.scores[best] <= self.scores[DEFAULT] else f", though it scored {self.scores[best]:.0%}"
        return (
            f"{name}, the default: no other method did significantly better on these {self.n_labels} labels "
            f"(closest, {NAMES.get(best, best)}: {self.wins[best]} labels better, {self.losses[best]} worse, "
            f"p = {self.p[best]:.2g}{lead}); one label here is {1 / self.n_labels:.1%} of accuracy"
        )


def paired_p(wins: int, losses: int) -> float:
    """One-sided exact McNemar p-value: the chance of ``wins`` or more of ``wins + losses`` fair coin tosses."""
    n = wins + losses
    return 1.0 if n == 0 else float(binom.sf(wins - 1, n, 0.5))


def choose_method(X: np.ndarray, y: np.ndarray, candidates: tuple[str, ...], make, random_state: int = 0) -> Choice:
    """The ``Choice`` of ``auto`` among ``candidates`` (``DEFAULT`` first), on the same stratified folds.

    ``make(method, random_state)`` builds an unfitted estimator. A challenger that cannot be fitted on a fold's
    training labels (3-NN from fewer than 3) is not compared.
    """
    counts = np.unique(y, return_counts=True)[1]
    folds = min(AUTO_FOLDS, int(counts.min()))
    if folds < 2:  # a class with one label cannot be held out
        return Choice(DEFAULT, folds, len(y))
    cv = StratifiedKFold(folds, shuffle=True, random_state=random_state)
    smallest_train = len(y) - int(np.ceil(len(y) / folds))
    right = {}
    for method in candidates:
        if method == "knn3" and smallest_train < 3:
            continue
        guess = cross_val_predict(clone(make(method, random_state)), X, y, cv=cv)
        right[method] = guess == y
    base = right[DEFAULT]
    scores = {m: float(r.mean()) for m, r in right.items()}
    wins = {m: int((r & ~base).sum()) for m, r in right.items() if m != DEFAULT}
    losses = {m: int((~r & base).sum()) for m, r in right.items() if m != DEFAULT}
    p = {m: paired_p(wins[m], losses[m]) for m in wins}
    significant = [m for m in wins if p[m] < ALPHA / len(wins)]
    method = max(significant, key=lambda m: (wins[m] - losses[m], -p[m])) if significant else DEFAULT
    return Choice(method, folds, len(y), scores, wins, losses, p)
