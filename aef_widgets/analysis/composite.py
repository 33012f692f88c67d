"""Three numbers per pixel for display: a band triple with a linear stretch, or the first principal components.

Results are float32 (rows, cols, 3) in 0..1 with NaN where there is no data; rendering turns them into colours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.bands import BAND_NAMES, DEFAULT_RGB_BANDS, DEFAULT_STRETCH, N_BANDS, band_index
from ..core.errors import NoDataError, UsageError
from ..core.field import BandField, EmbeddingField
from .sampling import sample_valid


@dataclass(frozen=True)
class BandStretch:
    """Three bands shown as red, green and blue, each stretched linearly from ``vmin`` to ``vmax``."""

    bands: tuple[str, str, str] = DEFAULT_RGB_BANDS
    vmin: float = DEFAULT_STRETCH[0]
    vmax: float = DEFAULT_STRETCH[1]

    def __post_init__(self) -> None:
        if len(self.bands) != 3:
            raise UsageError(f"an RGB composite needs three bands, got {len(self.bands)}")
        object.__setattr__(self, "bands", tuple(BAND_NAMES[band_index(b)] for b in self.bands))
        if not (np.isfinite(self.vmin) and np.isfinite(self.vmax) and self.vmin < self.vmax):
            raise UsageError(f"the stretch needs min < max, got {self.vmin} .. {self.vmax}")


def band_composite(field: EmbeddingField | BandField, stretch: BandStretch | None = None) -> np.ndarray:
    """The stretched band triple of every pixel: float32 (rows, cols, 3) in 0..1, NaN without data.

    ``field`` holds all 64 bands or (a ``BandField``) at least the three shown.
    """
    stretch = stretch or BandStretch()
    idx = [band_index(b) for b in stretch.bands]
    is_bands = isinstance(field, BandField)
    picked = np.stack([field.band(i) for i in idx], axis=-1) if is_bands else field.values[..., idx]
    rgb = (picked - np.float32(stretch.vmin)) / np.float32(stretch.vmax - stretch.vmin)
    return np.clip(rgb, 0, 1, out=rgb)


class PCAComposite:
    """The first three principal components of the embeddings, stretched between percentiles of a sample.

    Fitted once per area and year so colours stay put while the view pans and zooms. Component signs are fixed
    (largest loading positive) so refitting on similar data gives similar colours.
    """

    def __init__(self, n_samples: int = 20_000, percentiles: tuple[float, float] = (2, 98), random_state: int = 0):
        self.n_samples = n_samples
        self.percentiles = percentiles
        self.random_state = random_state

    def fit(self, X: EmbeddingField | np.ndarray) -> PCAComposite:
        """Fit on a field (sampled) or on (n, 64) vectors."""
        if isinstance(X, EmbeddingField):
            samples = sample_valid(X, self.n_samples, self.random_state)
        else:
            samples = np.asarray(X, dtype=np.float32).reshape(-1, N_BANDS)
            samples = samples[np.isfinite(samples).all(axis=1)]
        if len(samples) < 3:
            raise NoDataError("a PCA composite needs at least three valid pixels")
        from sklearn.decomposition import PCA  # here: scikit-learn takes seconds to import, band composites need none

        pca = PCA(n_components=3, random_state=self.random_state).fit(samples)
        signs = np.sign(pca.components_[np.arange(3), np.abs(pca.components_).argmax(axis=1)])
        self.components_ = (pca.components_ * signs[:, None]).astype(np.float32)
        self.mean_ = pca.mean_.astype(np.float32)
        scores = (samples - self.mean_) @ self.components_.T
        self.low_, self.high_ = np.percentile(scores, self.percentiles, axis=0).astype(np.float32)
        return self

    def transform(self, field: EmbeddingField) -> np.ndarray:
        """Stretched component scores: float32 (rows, cols, 3) in 0..1, NaN without data."""
        rows, cols = field.shape
        scores = (field.values.reshape(-1, N_BANDS) - self.mean_) @ self.components_.T
        rgb = ((scores - self.low_) / np.maximum(self.high_ - self.low_, 1e-12)).reshape(rows, cols, 3)
        return np.clip(rgb, 0, 1, out=rgb)


@dataclass(frozen=True)
class PCAStretch:
    """Show the first three principal components, stretched between two percentiles."""

    percentiles: tuple[float, float] = (2, 98)


#: How an RGB layer is made: three bands, or the principal components.
RGBStyle = BandStretch | PCAStretch
