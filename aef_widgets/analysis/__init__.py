"""Analysis of embedding fields: pure numpy and scikit-learn, no widgets, no I/O."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.lazy import lazy_exports

if TYPE_CHECKING:
    from .area import ClassAreas, area_ha, class_areas, pixel_area_m2
    from .classify import CANDIDATES, METHODS, ClassMap, EmbeddingClassifier, classify
    from .composite import BandStretch, PCAComposite, PCAStretch, RGBStyle, band_composite
    from .contrast import contrast_score, contrast_weights
    from .kmeans import MAX_KMEANS_SAMPLES, NO_CLASS, EmbeddingKMeans, check_kmeans_params, k_means
    from .label_pixels import POLYGON_PIXELS, polygon_pixels
    from .regress import REGRESSION_METHODS, EmbeddingRegressor, RegressionAccuracy, evaluate_regression
    from .sampling import PixelSampler, sample_valid
    from .similarity import above, angle_degrees, change, cosine, mean_reference, similarity
    from .temporal import (
        ChangeYears,
        ChangeYearsBuilder,
        RobustScale,
        Trajectory,
        TrajectorySums,
        anomaly,
        change_years,
        pixel_trajectory,
        robust_scale,
    )
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
    from .vectors import VectorLayer, class_polygons, threshold_polygons

__getattr__, __dir__ = lazy_exports(__name__, __file__)

__all__ = [
    "BLOCK_SIZE_M",
    "CANDIDATES",
    "MAX_KMEANS_SAMPLES",
    "METHODS",
    "NO_CLASS",
    "POLYGON_PIXELS",
    "REGRESSION_METHODS",
    "Accuracy",
    "AreaHistogram",
    "BandStretch",
    "ChangeYears",
    "ChangeYearsBuilder",
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
    "RobustScale",
    "Trajectory",
    "TrajectorySums",
    "VectorLayer",
    "above",
    "angle_degrees",
    "anomaly",
    "area_ha",
    "band_composite",
    "change",
    "change_years",
    "check_kmeans_params",
    "class_areas",
    "class_polygons",
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
    "pixel_trajectory",
    "polygon_pixels",
    "random_folds",
    "robust_scale",
    "sample_valid",
    "similarity",
    "spatial_blocks",
    "spatial_folds",
    "threshold_polygons",
]
