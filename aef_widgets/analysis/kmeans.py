"""K-means on embeddings, the classic workflow made safe for nodata and large AOIs.

Fit on a random sample of valid pixels (500 by default, as in the classic notebook), then label every pixel in
chunks so memory stays bounded. Pixels without data get no class (-1): the classic notebook set them to 0 and so
clustered them as if they were a place.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans

from ..core.bands import N_BANDS
from ..core.errors import NoDataError
from ..core.field import EmbeddingField
from .sampling import sample_valid

NO_CLASS = -1


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
        if not 2 <= int(self.n_clusters) <= 255:
            raise ValueError(f"n_clusters must be between 2 and 255, got {self.n_clusters}")
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
        self.kmeans_ = KMeans(n_clusters=int(self.n_clusters), n_init=self.n_init, random_state=self.random_state).fit(
            samples
        )
        self.cluster_centers_ = self.kmeans_.cluster_centers_.astype(np.float32)
        return self

    def predict(self, field: EmbeddingField) -> np.ndarray:
        """int16 (rows, cols) cluster of every pixel; NO_CLASS (-1) where there is no data."""
        if not hasattr(self, "kmeans_"):
            raise RuntimeError("fit the model before predicting")
        labels = np.full(field.shape, NO_CLASS, dtype=np.int16)
        flat_labels = labels.reshape(-1)
        flat_mask = field.mask.reshape(-1)
        flat_values = field.values.reshape(-1, N_BANDS)
        for start in range(0, flat_mask.size, self.chunk_pixels):
            stop = start + self.chunk_pixels
            valid = np.flatnonzero(flat_mask[start:stop]) + start
            if valid.size:
                flat_labels[valid] = self.kmeans_.predict(flat_values[valid])
        return labels

    def fit_predict(self, field: EmbeddingField) -> np.ndarray:
        return self.fit(field).predict(field)


def k_means(
    field: EmbeddingField, n_clusters: int = 5, n_samples: int = 500, random_state: int = 0
) -> tuple[np.ndarray, EmbeddingKMeans]:
    """Cluster a field: (labels, fitted model). The function twin of ``EmbeddingKMeans``."""
    model = EmbeddingKMeans(n_clusters, n_samples, random_state).fit(field)
    return model.predict(field), model
