"""The classic workflow the issue describes, reconstructed step by step (no public notebook was found to copy).

A notebook downloads the AOI with ``geemap.download_ee_image`` (geedim writes a float64 GeoTIFF), reads the whole
file into memory with rasterio, fits scikit-learn's ``KMeans(5)`` on 500 random valid pixels, predicts every valid
pixel and writes the labels as a uint8 GeoTIFF (0 = no data). Only the download is left out: the benchmark starts
from the file geedim would have written (see ``data.GEEDIM_PROFILE``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from sklearn.cluster import KMeans


def classic_kmeans(path: Path, out: Path, n_clusters: int = 5, n_samples: int = 500, seed: int = 0) -> int:
    """Cluster the file the classic way; returns the number of valid pixels labelled."""
    with rasterio.open(path) as src:
        arr = src.read()  # (64, rows, cols) float64: the whole AOI in memory
        profile = src.profile
    bands, rows, cols = arr.shape
    X = arr.reshape(bands, -1).T  # (pixels, 64), a view
    valid = np.all(np.isfinite(X), axis=1)  # geedim marks missing pixels with -inf
    rng = np.random.default_rng(seed)
    idx = rng.choice(np.flatnonzero(valid), n_samples, replace=False)
    km = KMeans(n_clusters=n_clusters, random_state=seed, n_init="auto").fit(X[idx])
    labels = km.predict(X[valid])
    image = np.zeros(rows * cols, dtype=np.uint8)
    image[valid] = labels + 1
    profile.update(count=1, dtype="uint8", nodata=0)
    with rasterio.open(out, "w", **profile) as dst:
        dst.write(image.reshape(rows, cols), 1)
    return int(valid.sum())
