"""K-means on embeddings, the classic workflow made safe for nodata and large AOIs.

Fit on a random sample of valid pixels (500 by default, as in the classic notebook), then label every pixel in
chunks so memory stays bounded. Pixels without data get no class (-1): the classic notebook set them to 0 and so
clustered them as if they were a place.

Labelling computes what scikit-learn's ``predict`` computes, ``argmin_k ||c_k||^2 - 2 x.c_k`` in float32, as one
matrix product per chunk; it skips sklearn's input validation and the copy of the valid pixels, and so labels
several times faster (see ``benchmarks/``). Labels agree with sklearn's except where two centres are equally near
to within float32 rounding.
"""

from __future__ import annotations

import os

import numpy as np

from ..core.bands import N_BANDS
from ..core.errors import NoDataError, UsageError
from ..core.execution import scoped
from ..core.field import EmbeddingField
from .blas import one_blas_thread
from .sampling import sample_valid

NO_CLASS = -1
#: Most pixels k-means is fitted on: 25.6 MB of vectors, fitted in seconds. A larger random sample finds the same
#: 2..20 clusters (k-means' centres converge long before this) while its time and memory grow without bound.
MAX_KMEANS_SAMPLES = 100_000
#: Centres are padded to a multiple of this many columns: OpenBLAS multiplies by 8 columns several times faster
#: than by 5 (measured 6x on AVX-512 for a 64k x 64 chunk), and a padded centre can never be nearest.
_GEMM_COLUMNS = 8
_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class EmbeddingKMeans:
    """K-means clustering of embedding fields, in the scikit-learn manner.

    Parameters are stored as given; ``fit`` validates them and sets ``kmeans_``, ``cluster_centers_`` and
    ``samples_``.
    """

    def __init__(
        self,
        n_clusters: int = 5,
        n_samples: int = 500,
        random_state: int = 0,
        n_init: int | str = "auto",
        chunk_pixels: int = 2**18,
    ) -> None:
        self.n_clusters = n_clusters
        self.n_samples = n_samples
        self.random_state = random_state
        self.n_init = n_init
        self.chunk_pixels = chunk_pixels

    def fit(self, X: EmbeddingField | np.ndarray) -> EmbeddingKMeans:
        """Fit on a field (a random sample of its valid pixels is drawn) or on (n, 64) sample vectors."""
        check_kmeans_params(self.n_clusters, self.n_samples)
        if isinstance(X, EmbeddingField):
            samples = sample_valid(X, int(self.n_samples), self.random_state)
        else:
            samples = np.asarray(X, dtype=np.float32).reshape(-1, N_BANDS)
            samples = samples[np.isfinite(samples).all(axis=1)]
        if len(samples) < self.n_clusters:
            raise NoDataError(
                f"only {len(samples)} valid pixels to learn {self.n_clusters} clusters from; "
                "choose a larger AOI or fewer clusters"
            )
        self.samples_ = samples
        from sklearn.cluster import KMeans  # here: scikit-learn takes seconds to import, a map needs none

        self.kmeans_ = KMeans(n_clusters=int(self.n_clusters), n_init=self.n_init, random_state=self.random_state).fit(
            samples
        )
        self.cluster_centers_ = self.kmeans_.cluster_centers_.astype(np.float32)
        return self

    def predict(self, field: EmbeddingField) -> np.ndarray:
        """int16 (rows, cols) cluster of every pixel; NO_CLASS (-1) where there is no data."""
        if not hasattr(self, "kmeans_"):
            raise RuntimeError("fit the model before predicting")
        weights, offsets = _distance_terms(self.cluster_centers_)
        labels = np.full(field.shape, NO_CLASS, dtype=np.int16)
        flat_labels = labels.reshape(-1)
        flat_mask = field.mask.reshape(-1)
        flat_values = field.values.reshape(-1, N_BANDS)

        def label(start: int) -> None:
            stop = start + self.chunk_pixels
            # pixels without data are NaN rows: they get some label here and NO_CLASS just below, which is
            # cheaper than gathering the valid rows into a copy first
            distances = flat_values[start:stop] @ weights
            distances += offsets
            np.copyto(flat_labels[start:stop], distances.argmin(axis=1), where=flat_mask[start:stop], casting="unsafe")

        starts = range(0, flat_mask.size, self.chunk_pixels)
        # one BLAS thread per chunk and chunks spread over the cores, as scikit-learn does: a multithreaded
        # product this narrow (8 columns) spends its time synchronising, measured 5-10x slower on 2 busy cores
        with one_blas_thread():
            if len(starts) == 1 or _CORES == 1:
                for start in starts:
                    label(start)
            else:
                with scoped(min(_CORES, len(starts)), "aef-kmeans") as pool:
                    list(pool.map(label, starts))
        return labels

    def fit_predict(self, field: EmbeddingField) -> np.ndarray:
        return self.fit(field).predict(field)


def check_kmeans_params(n_clusters: int, n_samples: int) -> None:
    """``UsageError`` in words for a number of clusters or a sample size k-means cannot or should not use.

    Call it before any pass over the pixels (``fit`` does), so a mistyped sample size is refused at once.
    """
    if not 2 <= int(n_clusters) <= 255:
        raise UsageError(f"n_clusters must be between 2 and 255, got {n_clusters}")
    if not 1 <= int(n_samples) <= MAX_KMEANS_SAMPLES:
        raise UsageError(
            f"the k-means sample must be between 1 and {MAX_KMEANS_SAMPLES:,} pixels, got {int(n_samples):,}; a "
            "larger sample makes k-means slower and bigger, not its clusters better"
        )


def k_means(
    field: EmbeddingField, n_clusters: int = 5, n_samples: int = 500, random_state: int = 0
) -> tuple[np.ndarray, EmbeddingKMeans]:
    """Cluster a field: (labels, fitted model). The function twin of ``EmbeddingKMeans``."""
    model = EmbeddingKMeans(n_clusters, n_samples, random_state).fit(field)
    return model.predict(field), model


def _distance_terms(centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(64, m) weights ``-2 c`` and (m,) offsets ``||c||^2`` such that ``x @ weights + offsets`` ranks centres as
    squared distances do; m is k rounded up to ``_GEMM_COLUMNS``, the padding centres with an infinite offset."""
    k = len(centers)
    m = -(-k // _GEMM_COLUMNS) * _GEMM_COLUMNS
    weights = np.zeros((N_BANDS, m), dtype=np.float32)
    weights[:, :k] = -2 * centers.T  # exact: scaling by 2 never rounds
    offsets = np.full(m, np.inf, dtype=np.float32)
    offsets[:k] = np.einsum("ij,ij->i", centers, centers)  # in float32, as sklearn's row_norms computes them
    return weights, offsets
