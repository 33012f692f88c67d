"""Derive the class statistics of the synthetic sample from a small raster of real AEF embeddings.

Reads ``tests/data/aef-real/wisconsin_2024_float32.tif`` (96 x 96 px of real 2024 embeddings), clusters it with
k-means, keeps the most mutually distinct centroids as class directions and models the spread of each cluster.
Writes ``aef_widgets/data/sample_classes.json``; only these rounded numbers ship with the package, never
the real pixels. Deterministic: running it again gives the same file (``--check`` verifies that).

The land-cover names are labels for the synthetic scene, assigned by the fixed rule in ``assign_names``; they are
not claims about what the real clusters are.

    python tools/derive_sample_classes.py [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import sys
from pathlib import Path

import numpy as np
import rasterio
from sklearn.cluster import KMeans

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "tests" / "data" / "aef-real" / "wisconsin_2024_float32.tif"
TARGET = ROOT / "aef_widgets" / "data" / "sample_classes.json"
ATTRIBUTION = "The AlphaEarth Foundations Satellite Embedding dataset is produced by Google and Google DeepMind."

K = 8  # clusters of the real raster
N_CLASSES = 6  # classes of the synthetic scene
N_COMPONENTS = 8  # principal components kept per class; the rest of the spread is modelled as isotropic
LAGS = (1, 2, 3, 4, 6, 8, 12, 16)
NAMES = ("water", "forest", "cropland", "grassland", "bare", "urban")
COLOURS = {
    "water": "#2f6fd6",
    "forest": "#1b7a3a",
    "cropland": "#e2c044",
    "grassland": "#98d16f",
    "bare": "#b48a62",
    "urban": "#d83c3c",
}
# The planted changes turn the first class of each pair into the second: these should be far apart.
CHANGE_PAIRS = (("forest", "bare"), ("cropland", "urban"), ("water", "bare"), ("water", "grassland"))
# Land covers a viewer expects to resemble each other: these should be close.
SIMILAR_PAIRS = (("cropland", "grassland"), ("grassland", "forest"), ("bare", "urban"), ("bare", "cropland"))


def load(path: Path = SOURCE) -> tuple[np.ndarray, tuple[int, int]]:
    """Pixels as (n, 64) float64 unit vectors, and the raster shape."""
    with rasterio.open(path) as ds:
        data = ds.read().astype(np.float64)
    x = data.reshape(data.shape[0], -1).T
    return x / np.linalg.norm(x, axis=1, keepdims=True), data.shape[1:]


def cluster(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit centroids and labels of k-means, clusters ordered by size (largest first) so the order is stable."""
    km = KMeans(n_clusters=K, n_init=10, random_state=0).fit(x)
    order = np.argsort(-np.bincount(km.labels_, minlength=K), kind="stable")
    centroids = km.cluster_centers_[order]
    labels = np.argsort(order)[km.labels_]
    return centroids / np.linalg.norm(centroids, axis=1, keepdims=True), labels


def most_distinct(centroids: np.ndarray, n: int = N_CLASSES) -> tuple[int, ...]:
    """The n centroids whose largest mutual dot product is smallest (ties: smallest mean dot)."""
    dots = centroids @ centroids.T

    def score(subset: tuple[int, ...]) -> tuple[float, float]:
        pair = dots[np.ix_(subset, subset)][np.triu_indices(n, 1)]
        return (round(pair.max(), 9), round(pair.mean(), 9))

    return min(itertools.combinations(range(len(centroids)), n), key=score)


def assign_names(centroids: np.ndarray) -> tuple[str, ...]:
    """Name each chosen centroid so the planted changes are visible and related covers look related.

    Over all assignments, maximise (mean dot of SIMILAR_PAIRS) - (largest dot of CHANGE_PAIRS).
    """
    dots = centroids @ centroids.T

    def score(names: tuple[str, ...]) -> float:
        at = {name: i for i, name in enumerate(names)}
        similar = np.mean([dots[at[a], at[b]] for a, b in SIMILAR_PAIRS])
        change = max(dots[at[a], at[b]] for a, b in CHANGE_PAIRS)
        return round(float(similar - change), 9)

    return max(itertools.permutations(NAMES), key=score)


def spread(x: np.ndarray, centroid: np.ndarray) -> dict:
    """Within-cluster spread in the gnomonic tangent plane, where renormalising c + t gives back the pixel."""
    dots = x @ centroid
    tangent = x / dots[:, None] - centroid
    _, s, vt = np.linalg.svd(tangent - tangent.mean(axis=0), full_matrices=False)
    variances = s**2 / len(x)
    rest = variances[N_COMPONENTS:].sum() / (x.shape[1] - 1 - N_COMPONENTS)
    return {
        "component_std": np.sqrt(variances[:N_COMPONENTS]),
        "components": vt[:N_COMPONENTS],
        "residual_std": float(np.sqrt(rest)),
        "dot_quantiles": np.quantile(dots, [0.05, 0.25, 0.5, 0.75, 0.95]),
    }


def autocorrelation(x: np.ndarray, labels: np.ndarray, centroids: np.ndarray, shape: tuple[int, int]) -> dict:
    """Correlation of tangent residuals between same-cluster pixels `lag` apart (rows and columns pooled)."""
    res = (x / (x * centroids[labels]).sum(axis=1, keepdims=True) - centroids[labels]).reshape(*shape, -1)
    lab = labels.reshape(shape)
    out = {}
    for lag in LAGS:
        pairs = [
            (res[:, lag:], res[:, :-lag], lab[:, lag:] == lab[:, :-lag]),
            (res[lag:], res[:-lag], lab[lag:] == lab[:-lag]),
        ]
        num = sum((a[m] * b[m]).sum() for a, b, m in pairs)
        den = sum(np.sqrt((a[m] ** 2).sum() * (b[m] ** 2).sum()) for a, b, m in pairs)
        out[str(lag)] = round(float(num / den), 3)
    return out


def neighbour_dot_median(x: np.ndarray, shape: tuple[int, int]) -> float:
    img = x.reshape(*shape, -1)
    return float(np.median((img[:, 1:] * img[:, :-1]).sum(axis=2)))


def derive(path: Path = SOURCE) -> dict:
    """All numbers of sample_classes.json, as a JSON-ready dict."""
    x, shape = load(path)
    centroids, labels = cluster(x)
    dots = centroids @ centroids.T
    own = (x * centroids[labels]).sum(axis=1)
    chosen = most_distinct(centroids)
    names = assign_names(centroids[list(chosen)])

    def r(a, n: int = 4):
        return np.round(np.asarray(a, dtype=float), n).tolist()

    classes = []
    for class_id, name in enumerate(NAMES):
        cluster_id = chosen[names.index(name)]
        members = x[labels == cluster_id]
        s = spread(members, centroids[cluster_id])
        classes.append(
            {
                "id": class_id,
                "name": name,
                "colour": COLOURS[name],
                "real_cluster": int(cluster_id),
                "real_pixels": len(members),
                "dot_to_centroid_quantiles": r(s["dot_quantiles"], 3),
                "centroid": r(centroids[cluster_id]),
                "component_std": r(s["component_std"]),
                "components": r(s["components"]),
                "residual_std": round(s["residual_std"], 5),
            }
        )
    upper = dots[np.triu_indices(K, 1)]
    return {
        "attribution": ATTRIBUTION,
        "derived_from": {
            "file": SOURCE.relative_to(ROOT).as_posix(),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "dataset": "GOOGLE/SATELLITE_EMBEDDING/V1/ANNUAL, year 2024, 96 x 96 px near -88.77, 44.295 (Wisconsin)",
            "license": "CC-BY 4.0",
            "script": "tools/derive_sample_classes.py",
            "method": (
                f"k-means (k={K}, n_init=10, random_state=0) on the unit vectors; the {N_CLASSES} centroids with the "
                "smallest largest mutual dot product become class directions; per class, the top "
                f"{N_COMPONENTS} principal components of the gnomonic residuals x / (x . c) - c and the isotropic "
                "standard deviation of the remaining dimensions."
            ),
        },
        "note": (
            "The class names are labels for the synthetic scene, assigned so that planted changes are visible; "
            "they are not claims about what the real clusters are."
        ),
        "real": {
            "kmeans_k": K,
            "within_cluster_dot_median": round(float(np.median(own)), 4),
            "centroid_dot_range": [round(float(upper.min()), 3), round(float(upper.max()), 3)],
            "neighbour_dot_median": round(neighbour_dot_median(x, shape), 4),
            "residual_autocorrelation": autocorrelation(x, labels, centroids, shape),
        },
        "classes": classes,
    }


def render(data: dict) -> str:
    """JSON text with each list of numbers on one line, so diffs stay readable."""
    text = json.dumps(data, indent=1)
    return re.sub(r"\[\s*([-+0-9.eE,\s]+?)\s*\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the shipped JSON differs from a fresh derivation")
    args = parser.parse_args(argv)
    text = render(derive())
    if args.check:
        if TARGET.read_text() != text:
            sys.stderr.write(f"{TARGET} is out of date: run tools/derive_sample_classes.py\n")
            return 1
        return 0
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
