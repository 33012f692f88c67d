"""Is ``auto`` as accurate as the best of its candidates with 10-30 labels per class? Many random draws, held-out truth.

For each dataset and each number of labels per class, ``draws`` times: draw that many labelled pixels of every class
at random, fit every method (the four candidates and ``auto``) on the same labels, and score each on the same
``test_size`` other pixels drawn at random. Prints mean accuracy ± sd over the draws as a Markdown table (the README's
Classification section holds its output). Column ``cv-best`` is the rule ``auto`` followed before issue 22 (the
candidate of highest cross-validated accuracy on the labels, ties to logistic regression, the forest, 3-NN, 1-NN),
read from the same draws' fits: the cross-validation scores ``auto`` computed and the candidates' test scores.

Truth:

- **sample**: ``sample_truth()``, the synthetic land-cover classes the sample was drawn from (exact).
- **real**: the real 2024 Wisconsin raster (``tests/data/aef-real``) ships no labels, so its classes are a *proxy*:
  k-means with 8 clusters (``REAL_CLUSTERS``, a different number from the sample's 6 classes) of its 9216 vectors,
  dropping the 20% of pixels nearest a boundary between two clusters (``REAL_AMBIGUOUS``: their cluster is
  arbitrary). This truth is made from the embeddings' own Euclidean geometry, so it favours methods whose boundaries
  look like k-means' (linear: logistic regression; nearest centre: k-NN) over what real land cover would; it checks
  that the ranking holds on real vectors, not what accuracy real labels would reach.

    python tools/classifier_choice.py [--draws 30] [--sizes 10 20 30] [--test-size 5000]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT / "tests" / "data" / "aef-real" / "wisconsin_2024_float32.tif"
REAL_CLUSTERS = 8
REAL_AMBIGUOUS = 0.2
METHODS = ("auto", "logistic", "forest", "knn3", "knn1")
#: Columns that are rules choosing among the candidates, not candidates.
RULES = ("auto", "cv-best")


@dataclass(frozen=True)
class Comparison:
    """Accuracy of every method on the same draws: ``scores[method][i]`` on draw ``i``; ``chosen`` what auto ran.

    ``scores["cv-best"]`` (when auto ran) is the candidate of highest cross-validated accuracy on each draw."""

    labels_per_class: int
    scores: dict[str, np.ndarray]
    chosen: list[str]

    def best_candidate(self) -> str:
        return max((m for m in self.scores if m not in RULES), key=lambda m: self.scores[m].mean())

    def shortfall(self) -> tuple[float, float]:
        """(mean of best candidate minus auto, standard error of that paired difference over the draws)."""
        d = self.scores[self.best_candidate()] - self.scores["auto"]
        return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("inf")


def compare(
    X: np.ndarray, y: np.ndarray, per_class: int, draws: int, test_size: int = 5000, seed: int = 0,
    methods: tuple[str, ...] = METHODS,
) -> Comparison:  # fmt: skip
    """Fit every method on the same ``draws`` random draws of ``per_class`` labels per class; score on others."""
    from aef_widgets import EmbeddingClassifier
    from aef_widgets.analysis.classify import CANDIDATES

    rng = np.random.default_rng(seed)
    by_class = [np.flatnonzero(y == c) for c in np.unique(y)]
    scores: dict[str, list[float]] = {m: [] for m in methods}
    chosen, cv_best = [], []
    for draw in range(draws):
        train = np.concatenate([rng.choice(idx, per_class, replace=False) for idx in by_class])
        rest = np.ones(len(y), dtype=bool)
        rest[train] = False
        test = rng.choice(np.flatnonzero(rest), min(test_size, int(rest.sum())), replace=False)
        for method in methods:
            model = EmbeddingClassifier(method, random_state=draw).fit(X[train], y[train])
            scores[method].append(model.score(X[test], y[test]))
            if method == "auto":
                chosen.append(model.method_)
                cv = model.cv_scores_
                cv_best.append(max(cv, key=lambda m: (cv[m], -CANDIDATES.index(m))))
    if cv_best and set(cv_best) <= set(scores):
        scores["cv-best"] = [scores[m][i] for i, m in enumerate(cv_best)]
    return Comparison(per_class, {m: np.asarray(s) for m, s in scores.items()}, chosen)


def sample_data(year: int = 2024) -> tuple[np.ndarray, np.ndarray]:
    """Every pixel of the bundled sample with data and a class, and its true class."""
    from aef_widgets import sample_source, sample_truth

    field = sample_source().read(None, year)
    labels = sample_truth().labels(year)
    valid = field.mask & (labels != 255)
    return field.values[valid], labels[valid].astype(int)


def real_data(path: Path = REAL, k: int = REAL_CLUSTERS, ambiguous: float = REAL_AMBIGUOUS):
    """The real raster's vectors and their proxy classes (module docstring): well-separated k-means clusters."""
    import rasterio
    from sklearn.cluster import KMeans

    with rasterio.open(path) as f:
        X = f.read().reshape(f.count, -1).T.astype(np.float32)
    kmeans = KMeans(k, n_init=10, random_state=0).fit(X)
    distances = np.sort(kmeans.transform(X), axis=1)
    gap = distances[:, 1] - distances[:, 0]
    keep = gap >= np.quantile(gap, ambiguous)
    return X[keep], kmeans.labels_[keep]


def table(rows: dict[str, list[Comparison]]) -> str:
    """Markdown: one row per dataset and label count, mean ± sd per method, what auto chose."""
    methods = list(next(iter(rows.values()))[0].scores)
    lines = ["| data | labels/class | " + " | ".join(methods) + " | auto chose |", "|" + " --- |" * (len(methods) + 3)]
    for data, comparisons in rows.items():
        for c in comparisons:
            best = c.best_candidate()
            cells = []
            for m in methods:
                cell = f"{c.scores[m].mean():.3f} ± {c.scores[m].std():.3f}"
                cells.append(f"**{cell}**" if m == best else cell)
            picked = ", ".join(f"{m} {c.chosen.count(m)}" for m in sorted(set(c.chosen), key=c.chosen.count)[::-1])
            lines.append(f"| {data} | {c.labels_per_class} | " + " | ".join(cells) + f" | {picked} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=30)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 20, 30])
    parser.add_argument("--test-size", type=int, default=5000)
    args = parser.parse_args()
    rows: dict[str, list[Comparison]] = {}
    for name, load in (("sample", sample_data), ("real (proxy)", real_data)):
        X, y = load()
        start = time.process_time()
        rows[name] = [compare(X, y, n, args.draws, args.test_size, seed=n) for n in args.sizes]
        for c in rows[name]:
            gap, se = c.shortfall()
            print(
                f"{name} {c.labels_per_class}/class: best {c.best_candidate()} leads auto by {gap:+.4f} ± {se:.4f}",
                flush=True,
            )
        print(f"{name}: {len(y)} pixels, {len(np.unique(y))} classes, {time.process_time() - start:.0f} s CPU")
    print(table(rows))


if __name__ == "__main__":
    main()
