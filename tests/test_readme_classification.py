"""The README's classification example runs as printed, and recovers the sample's truth."""

from __future__ import annotations

import numpy as np

from tests.test_readme import python_block_after


def test_classification_example_runs(capsys):
    scope: dict = {}
    exec(python_block_after("## Classification"), scope)
    result, model, areas, truth = (scope[k] for k in ("result", "model", "areas", "truth"))
    truth_2024 = truth.labels(2024)
    inside = result.labels >= 0
    assert np.mean(model.classes_[result.labels[inside]] == truth_2024[inside]) > 0.95
    assert sum(areas.pixels) == int(inside.sum())
    assert len(scope["next_rows"]) == 10 and (result.labels[scope["next_rows"], scope["next_cols"]] >= 0).all()
    naive, honest = scope["naive"], scope["honest"]
    assert naive.scheme == "random 5-fold" and honest.scheme == "1 km blocks"
    assert 0.8 < honest.mean <= 1.0 and naive.confusion.sum() == 60
    out = capsys.readouterr().out
    assert "random 5-fold:" in out and "1 km blocks:" in out
