"""A fitted ``EmbeddingClassifier`` as plain named numeric arrays, and back: what a saved model file holds.

Every method reduces to numbers without code: logistic regression to the scaler's means and scales and the
coefficients and intercepts; k-NN to its labelled vectors and their classes (fitting k-NN only stores them, so
refitting on them rebuilds it exactly); the forest to each tree's node table (children, split feature, threshold,
...) and leaf class values, one plain array per column. So a file of these arrays (``engines.classifier_file``, an
``.npz`` read with ``allow_pickle=False``) cannot run code when loaded, unlike a pickle. Rebuilding a tree uses
scikit-learn's ``Tree`` state, whose node columns are checked by name, so a scikit-learn whose trees need a column
the file lacks is refused in words rather than mis-read.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from ..core.bands import N_BANDS
from ..core.errors import AEFError
from .classify import METHODS, EmbeddingClassifier, make_estimator


class ModelStateError(AEFError):
    """Arrays that do not make a classifier this version can rebuild (the message says why)."""


def model_arrays(model: EmbeddingClassifier) -> dict[str, np.ndarray]:
    """The fitted model as ``{name: array}`` (numbers and fixed-width strings only, no objects)."""
    if not hasattr(model, "estimator_"):
        raise ModelStateError("fit the classifier on labelled points before saving it")
    classes = np.asarray(model.classes_)
    arrays = {"method": np.array(model.method_), "classes": classes.astype(str) if classes.dtype == object else classes}
    est = model.estimator_
    if model.method_ == "logistic":
        scaler, logistic = est[0], est[-1]
        arrays |= {"mean": scaler.mean_, "scale": scaler.scale_}
        arrays |= {"coef": logistic.coef_, "intercept": logistic.intercept_}
    elif model.method_ in ("knn1", "knn3"):
        arrays |= {"vectors": est._fit_X, "targets": est._y}
    else:
        arrays["n_trees"] = np.array(len(est.estimators_))
        for i, tree in enumerate(est.estimators_):
            state = tree.tree_.__getstate__()
            arrays[f"tree{i}_values"] = state["values"]
            arrays[f"tree{i}_depth"] = np.array(state["max_depth"])
            for column in state["nodes"].dtype.names:
                arrays[f"tree{i}_{column}"] = np.ascontiguousarray(state["nodes"][column])
    return arrays


def model_from_arrays(arrays: dict[str, np.ndarray], random_state: int = 0) -> EmbeddingClassifier:
    """The fitted ``EmbeddingClassifier`` ``model_arrays`` describes (``ModelStateError`` if it cannot be)."""
    method = str(arrays["method"])
    if method not in METHODS or method == "auto":
        raise ModelStateError(f"the file holds an unknown method {method!r}")
    classes = np.asarray(arrays["classes"])
    model = EmbeddingClassifier(method, random_state)
    est = make_estimator(method, random_state)
    if method == "logistic":
        scaler, logistic = est[0], est[-1]
        scaler.mean_, scaler.scale_ = arrays["mean"], arrays["scale"]
        scaler.var_, scaler.n_features_in_, scaler.n_samples_seen_ = arrays["scale"] ** 2, N_BANDS, 0
        logistic.coef_, logistic.intercept_, logistic.classes_ = arrays["coef"], arrays["intercept"], classes
        logistic.n_features_in_, logistic.n_iter_ = N_BANDS, np.zeros(1, dtype=np.int32)
    elif method in ("knn1", "knn3"):
        est.fit(arrays["vectors"], classes[arrays["targets"]])
    else:
        _fill_forest(est, arrays, classes)
    if est.n_features_in_ != N_BANDS:
        raise ModelStateError(f"the model takes {est.n_features_in_} bands, not {N_BANDS}")
    model.method_, model.estimator_, model.classes_, model.n_features_in_ = method, est, classes, N_BANDS
    return model


def _fill_forest(forest: RandomForestClassifier, arrays: dict[str, np.ndarray], classes: np.ndarray) -> None:
    from sklearn.tree._tree import Tree  # scikit-learn's tree structure: rebuilt from its documented state

    n_classes = np.array([len(classes)], dtype=np.intp)
    trees = []
    for i in range(int(arrays["n_trees"])):
        values = arrays[f"tree{i}_values"]
        tree = Tree(N_BANDS, n_classes, 1)
        dtype = tree.__getstate__()["nodes"].dtype
        missing = [c for c in dtype.names if f"tree{i}_{c}" not in arrays]
        if missing:
            raise ModelStateError(f"the forest was saved by a scikit-learn whose trees lack {', '.join(missing)}")
        nodes = np.zeros(len(values), dtype=dtype)
        for column in dtype.names:
            nodes[column] = arrays[f"tree{i}_{column}"]
        state = {"max_depth": int(arrays[f"tree{i}_depth"]), "node_count": len(nodes), "nodes": nodes}
        tree.__setstate__(state | {"values": np.ascontiguousarray(values, dtype=np.float64)})
        member = DecisionTreeClassifier(**{p: getattr(forest, p) for p in forest.estimator_params})
        member.n_features_in_, member.n_outputs_, member.max_features_ = N_BANDS, 1, int(np.sqrt(N_BANDS))
        member.classes_, member.n_classes_, member.tree_ = np.arange(len(classes), dtype=float), len(classes), tree
        trees.append(member)
    forest.estimators_, forest.estimator_ = trees, DecisionTreeClassifier()
    forest.classes_, forest.n_classes_, forest.n_outputs_, forest.n_features_in_ = classes, len(classes), 1, N_BANDS
