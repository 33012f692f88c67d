"""How ``auto`` chooses: logistic regression unless a paired test on the labels shows another method is better;
and the evaluation harness (tools/classifier_choice.py) on small sizes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from aef_widgets import EmbeddingClassifier
from aef_widgets.analysis.classify_choice import ALPHA, DEFAULT, paired_p
from tools.classifier_choice import compare, real_data, table


def test_paired_p_is_the_one_sided_exact_binomial_test():
    for wins, losses in ((0, 0), (6, 0), (5, 0), (7, 2), (3, 9), (20, 11)):
        expected = 1.0 if wins + losses == 0 else binomtest(wins, wins + losses, 0.5, alternative="greater").pvalue
        assert paired_p(wins, losses) == pytest.approx(expected, rel=1e-12)


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def xor_classes(per_class: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two classes no hyperplane separates: class 0 lies around +u and -u, class 1 around +v and -v."""
    u, v = np.eye(64)[0], np.eye(64)[1]
    centres = [u, -u, v, -v]
    X = np.concatenate([c + 0.15 * rng.normal(size=(per_class // 2, 64)) for c in centres])
    return unit(X), np.repeat([0, 0, 1, 1], per_class // 2)


def test_auto_switches_when_the_labels_show_another_method_is_better():
    rng = np.random.default_rng(0)
    X, y = xor_classes(30, rng)
    model = EmbeddingClassifier("auto").fit(X, y)
    choice = model.choice_
    assert choice.method != DEFAULT and choice.p[choice.method] < ALPHA / len(choice.p)
    assert choice.wins[choice.method] - choice.losses[choice.method] >= 6
    # the choice was right: on new points of the same classes it beats the default
    X_new, y_new = xor_classes(400, rng)
    assert model.score(X_new, y_new) > EmbeddingClassifier(DEFAULT).fit(X, y).score(X_new, y_new) + 0.2
    assert "beats the default" in choice.reason and f"p = {choice.p[choice.method]:.3g}" in choice.reason


def test_auto_keeps_the_default_when_the_labels_cannot_tell():
    """Two well-separated classes: every method gets (nearly) every held-out label right, so none can win."""
    rng = np.random.default_rng(1)
    centres = unit(rng.normal(size=(2, 64)))
    X = unit(np.repeat(centres, 10, axis=0) + 0.05 * rng.normal(size=(20, 64)))
    y = np.repeat([0, 1], 10)
    model = EmbeddingClassifier("auto").fit(X, y)
    assert model.method_ == DEFAULT and all(p >= ALPHA / len(model.choice_.p) for p in model.choice_.p.values())
    assert model.choice_.reason.startswith("logistic regression, the default: no other method")
    assert "20 labels" in model.choice_.reason


def test_auto_with_a_single_label_of_a_class_uses_the_default_and_says_why():
    rng = np.random.default_rng(2)
    X, y = unit(rng.normal(size=(7, 64))), np.array([0, 0, 0, 1, 1, 1, 2])
    model = EmbeddingClassifier("auto").fit(X, y)
    assert model.method_ == DEFAULT and "single label" in model.choice_.reason


def test_the_harness_scores_every_method_on_the_same_draws_of_the_real_raster():
    """Small sizes: 3 draws of 5 labels per class of the real raster's proxy classes, 500 test pixels."""
    X, y = real_data()
    assert len(np.unique(y)) == 8 and len(y) == pytest.approx(0.8 * 96 * 96, abs=2)
    result = compare(X, y, per_class=5, draws=3, test_size=500, seed=0)
    assert set(result.scores) == {"auto", "logistic", "forest", "knn3", "knn1", "cv-best"}
    assert all(len(s) == 3 and ((s > 0.5) & (s <= 1)).all() for s in result.scores.values())
    # auto runs one of its candidates on the same labels, so its score is that candidate's on each draw
    # (the forest's seed is the draw's, as in the harness)
    for i, method in enumerate(result.chosen):
        assert result.scores["auto"][i] == result.scores[method][i]
        assert result.scores["cv-best"][i] in [result.scores[m][i] for m in ("logistic", "forest", "knn3", "knn1")]
    gap, se = result.shortfall()
    best = result.best_candidate()
    assert gap == pytest.approx(np.mean(result.scores[best] - result.scores["auto"]))
    text = table({"real": [result]})
    assert text.count("\n") == 2 and f"**{result.scores[best].mean():.3f}" in text and "| cv-best |" in text
