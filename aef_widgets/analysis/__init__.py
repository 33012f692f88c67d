"""Analysis of embedding fields: pure numpy and scikit-learn, no widgets, no I/O."""

from .area import ClassAreas, area_ha, class_areas, pixel_area_m2
from .composite import BandStretch, PCAComposite, PCAStretch, RGBStyle, band_composite
from .kmeans import NO_CLASS, EmbeddingKMeans, k_means
from .sampling import PixelSampler, sample_valid
from .similarity import above, angle_degrees, change, mean_reference, similarity
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
from .vectors import VectorLayer, class_polygons, threshold_polygons

__all__ = [
    "NO_CLASS",
    "AreaHistogram",
    "BandStretch",
    "ChangeYears",
    "ChangeYearsBuilder",
    "ClassAreas",
    "EmbeddingKMeans",
    "PCAComposite",
    "PCAStretch",
    "PixelSampler",
    "RGBStyle",
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
    "class_areas",
    "class_polygons",
    "k_means",
    "mean_reference",
    "pixel_area_m2",
    "pixel_trajectory",
    "robust_scale",
    "sample_valid",
    "similarity",
    "threshold_polygons",
]
