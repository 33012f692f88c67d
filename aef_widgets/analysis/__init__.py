"""Analysis of embedding fields: pure numpy and scikit-learn, no widgets, no I/O."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.lazy import lazy_exports

if TYPE_CHECKING:
    from .area import ClassAreas, area_ha, class_areas, pixel_area_m2
    from .classify import CANDIDATES, METHODS, ClassMap, EmbeddingClassifier, classify
    from .composite import BandStretch, PCAComposite, PCAStretch, RGBStyle, band_composite
    from .contrast import contrast_score, contrast_weights
    from .kmeans import NO_CLASS, EmbeddingKMeans, k_means
    from .label_pixels import POLYGON_PIXELS, polygon_pixels
    from .regress import REGRESSION_METHODS, EmbeddingRegressor, RegressionAccuracy, evaluate_regression
    from .sampling import PixelSampler, sample_valid
    from .similarity import above, angle_degrees, change, cosine, mean_reference, similarity
    from .thresholds import AreaHistogram
    from .uncertainty import most_uncertain
    from .validation import (
        BLOCK_SIZE_M,
        Accuracy,
        LearningCurve,
        evaluate,
        learning_curve,
        neighbours_of,
        random_folds,
        spatial_blocks,
        spatial_folds,
    )

__getattr__, __dir__ = lazy_exports(__name__, __file__)

__all__ = [
    "BLOCK_SIZE_M",
    "CANDIDATES",
    "METHODS",
    "NO_CLASS",
    "POLYGON_PIXELS",
    "REGRESSION_METHODS",
    "Accuracy",
    "AreaHistogram",
    "BandStretch",
    "ClassAreas",
    "ClassMap",
    "EmbeddingClassifier",
    "EmbeddingKMeans",
    "EmbeddingRegressor",
    "LearningCurve",
    "PCAComposite",
    "PCAStretch",
    "PixelSampler",
    "RGBStyle",
    "RegressionAccuracy",
    "above",
    "angle_degrees",
    "area_ha",
    "band_composite",
    "change",
    "class_areas",
    "classify",
    "contrast_score",
    "contrast_weights",
    "cosine",
    "evaluate",
    "evaluate_regression",
    "k_means",
    "learning_curve",
    "mean_reference",
    "most_uncertain",
    "neighbours_of",
    "pixel_area_m2",
    "polygon_pixels",
    "random_folds",
    "sample_valid",
    "similarity",
    "spatial_blocks",
    "spatial_folds",
]
