"""aef-widgets: composable Jupyter widgets for the AlphaEarth Foundations Satellite Embedding dataset.

Layers, bottom to top (a layer only imports those below it):

- ``core``: bands, the int8 quantization, AOIs, grids and embedding fields;
- ``sources``: where embeddings come from (GeoTIFFs, the bundled synthetic sample, Earth Engine);
- ``analysis``: similarity, change, k-means, composites and areas, in numpy and scikit-learn;
- ``rendering``: arrays to PNG overlays, colour bars and legends;
- ``engines``: products for the map, computed in-process or on Earth Engine;
- ``widgets``: the widgets and the state they share; ``explorer``: the app.

The AlphaEarth Foundations Satellite Embedding dataset is produced by Google and Google DeepMind (CC-BY 4.0).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .core.lazy import lazy_exports

if TYPE_CHECKING:
    from .analysis import (
        Accuracy,
        AreaHistogram,
        BandStretch,
        ClassAreas,
        ClassMap,
        EmbeddingClassifier,
        EmbeddingKMeans,
        EmbeddingRegressor,
        LearningCurve,
        PCAComposite,
        PCAStretch,
        angle_degrees,
        band_composite,
        change,
        class_areas,
        classify,
        contrast_score,
        cosine,
        evaluate,
        evaluate_regression,
        k_means,
        learning_curve,
        most_uncertain,
        random_folds,
        similarity,
        spatial_folds,
    )
    from .core.aoi import AOI
    from .core.errors import AEFError, AOIError, EarthEngineError, LabelsError, NoDataError, SourceError, YearError
    from .core.field import EmbeddingField
    from .core.grid import Footprint, Grid
    from .ee_auth import ee_available, ee_init, ee_status
    from .engines import EarthEngineEngine, Engine, LocalEngine, engine_for
    from .engines.ee_export import ExportTask
    from .engines.workflows import classify_grid, cluster_grid, regress_grid
    from .explorer import Explorer
    from .sources import ATTRIBUTION, EarthEngineSource, EmbeddingSource, GeoTIFFSource, open_source
    from .sources.labels import LabelPoint, load_labels, load_values, save_labels
    from .sources.sample import sample_source, sample_truth
    from .widgets import (
        AOIDrawer,
        BandRGBSelector,
        ChangePanel,
        ClusterPanel,
        ExplorerState,
        LayerList,
        SimilarityProbe,
        YearPicker,
        make_map,
    )

__getattr__, __dir__ = lazy_exports(__name__, __file__)

__version__ = "0.1.0"

__all__ = [
    "AOI",
    "ATTRIBUTION",
    "AEFError",
    "AOIDrawer",
    "AOIError",
    "Accuracy",
    "AreaHistogram",
    "BandRGBSelector",
    "BandStretch",
    "ChangePanel",
    "ClassAreas",
    "ClassMap",
    "ClusterPanel",
    "EarthEngineEngine",
    "EarthEngineError",
    "EarthEngineSource",
    "EmbeddingClassifier",
    "EmbeddingField",
    "EmbeddingKMeans",
    "EmbeddingRegressor",
    "EmbeddingSource",
    "Engine",
    "Explorer",
    "ExplorerState",
    "ExportTask",
    "Footprint",
    "GeoTIFFSource",
    "Grid",
    "LabelPoint",
    "LabelsError",
    "LayerList",
    "LearningCurve",
    "LocalEngine",
    "NoDataError",
    "PCAComposite",
    "PCAStretch",
    "SimilarityProbe",
    "SourceError",
    "YearError",
    "YearPicker",
    "angle_degrees",
    "band_composite",
    "change",
    "class_areas",
    "classify",
    "classify_grid",
    "cluster_grid",
    "contrast_score",
    "cosine",
    "ee_available",
    "ee_init",
    "ee_status",
    "engine_for",
    "evaluate",
    "evaluate_regression",
    "k_means",
    "learning_curve",
    "load_labels",
    "load_values",
    "make_map",
    "most_uncertain",
    "open_source",
    "random_folds",
    "regress_grid",
    "sample_source",
    "sample_truth",
    "save_labels",
    "similarity",
    "spatial_folds",
]
