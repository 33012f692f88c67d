"""Analysis of embedding fields: pure numpy and scikit-learn, no widgets, no I/O."""

from .area import ClassAreas, area_ha, class_areas, pixel_area_m2
from .composite import BandStretch, PCAComposite, PCAStretch, RGBStyle, band_composite
from .kmeans import MAX_KMEANS_SAMPLES, NO_CLASS, EmbeddingKMeans, check_kmeans_params, k_means
from .sampling import PixelSampler, sample_valid
from .similarity import above, angle_degrees, change, mean_reference, similarity
from .thresholds import AreaHistogram

__all__ = [
    "MAX_KMEANS_SAMPLES",
    "NO_CLASS",
    "AreaHistogram",
    "BandStretch",
    "ClassAreas",
    "EmbeddingKMeans",
    "PCAComposite",
    "PCAStretch",
    "PixelSampler",
    "RGBStyle",
    "above",
    "angle_degrees",
    "area_ha",
    "band_composite",
    "change",
    "check_kmeans_params",
    "class_areas",
    "k_means",
    "mean_reference",
    "pixel_area_m2",
    "sample_valid",
    "similarity",
]
