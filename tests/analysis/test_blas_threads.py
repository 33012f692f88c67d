"""Models fitted on a few labels run BLAS on one thread: on 12 labels OpenBLAS's other threads only spin (46 ms of
CPU per logistic fit with two threads, 6 ms with one), in NumPy's OpenBLAS and in SciPy's, loaded after it."""

from __future__ import annotations

import importlib

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

classify = importlib.import_module("aef_widgets.analysis.classify")  # the module: the package re-exports a function


def test_fitting_on_labels_limits_every_blas_library_to_one_thread(monkeypatch):
    seen: list[dict[str, int]] = []
    make = classify.make_estimator

    def recording(method: str, random_state: int = 0):
        seen.append({i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})
        return make(method, random_state)

    monkeypatch.setattr(classify, "make_estimator", recording)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 64)).astype(np.float32)
    # two threads to start from, as in a kernel on two cores (the suite's workers run on one: tests/conftest.py)
    with threadpool_limits(2, user_api="blas"):
        assert all(i["num_threads"] == 2 for i in threadpool_info() if i["user_api"] == "blas")
        classify.EmbeddingClassifier("auto").fit(X, np.array([0, 1] * 6))
    assert len(seen) >= 5 and all(threads == 1 for libraries in seen for threads in libraries.values()), seen
    assert all(libraries for libraries in seen)  # NumPy's OpenBLAS at least was found
