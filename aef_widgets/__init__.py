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
        ChangeYears,
        ClassAreas,
        ClassMap,
        EmbeddingClassifier,
        EmbeddingKMeans,
        EmbeddingRegressor,
        LearningCurve,
        PCAComposite,
        PCAStretch,
        RobustScale,
        Trajectory,
        VectorLayer,
        angle_degrees,
        anomaly,
        band_composite,
        change,
        change_years,
        class_areas,
        class_polygons,
        classify,
        contrast_score,
        cosine,
        evaluate,
        evaluate_regression,
        k_means,
        learning_curve,
        most_uncertain,
        pixel_trajectory,
        random_folds,
        robust_scale,
        similarity,
        spatial_folds,
        threshold_polygons,
    )
    from .core.aoi import AOI
    from .core.errors import (
        AEFError,
        AOIError,
        EarthEngineError,
        ExportError,
        LabelsError,
        NoDataError,
        SourceError,
        TooLargeError,
        TooManyFilesError,
        YearError,
    )
    from .core.field import BandField, EmbeddingField
    from .core.grid import Footprint, Grid
    from .core.place import Place, parse_place
    from .ee_auth import ee_available, ee_init, ee_status
    from .engines import EarthEngineEngine, Engine, LocalEngine, engine_for
    from .engines.classifier_file import ClassifierFileError, SavedClassifier, load_classifier, save_classifier
    from .engines.earthengine_region_search import export_similar_ee
    from .engines.earthengine_temporal import EETemporal
    from .engines.ee_export import ExportTask
    from .engines.local_temporal import LocalTemporal
    from .engines.product_export import (
        change_year_map,
        change_year_polygons,
        export_anomaly,
        export_change_years,
        export_classes,
        export_rgb,
        export_values,
    )
    from .engines.region_search import SearchReport, find_similar
    from .engines.tables import sample_points, zonal_embeddings
    from .engines.temporal_workflows import (
        AnomalyMap,
        anomaly_grid,
        change_years_grid,
        point_trajectory,
        trajectory_grid,
    )
    from .engines.workflows import classify_grid, cluster_grid, regress_grid
    from .engines.zonal_trajectories import zonal_trajectories
    from .explorer import Explorer
    from .sources import ATTRIBUTION, EarthEngineSource, EmbeddingSource, GeoTIFFSource, ReleaseSource, open_source
    from .sources.cog_export import write_cog
    from .sources.labels import LabelPoint, labels_from_bytes, load_labels, load_values, save_labels
    from .sources.release import open_release
    from .sources.sample import PlantedEvent, SampleTruth, sample_source, sample_truth
    from .sources.vector_export import write_geojson
    from .widgets import (
        AOIDrawer,
        BandRGBSelector,
        ChangeOverYears,
        ChangePanel,
        ClassEditor,
        ClassifyPanel,
        ClusterPanel,
        ExplorerState,
        LabelPicker,
        LayerList,
        PlaceFinder,
        SearchWider,
        SideBySide,
        SimilarityProbe,
        TimeSeriesPanel,
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
    "AnomalyMap",
    "AreaHistogram",
    "BandField",
    "BandRGBSelector",
    "BandStretch",
    "ChangeOverYears",
    "ChangePanel",
    "ChangeYears",
    "ClassAreas",
    "ClassEditor",
    "ClassMap",
    "ClassifierFileError",
    "ClassifyPanel",
    "ClusterPanel",
    "EETemporal",
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
    "ExportError",
    "ExportTask",
    "Footprint",
    "GeoTIFFSource",
    "Grid",
    "LabelPicker",
    "LabelPoint",
    "LabelsError",
    "LayerList",
    "LearningCurve",
    "LocalEngine",
    "LocalTemporal",
    "NoDataError",
    "PCAComposite",
    "PCAStretch",
    "Place",
    "PlaceFinder",
    "PlantedEvent",
    "ReleaseSource",
    "RobustScale",
    "SampleTruth",
    "SavedClassifier",
    "SearchReport",
    "SearchWider",
    "SideBySide",
    "SimilarityProbe",
    "SourceError",
    "TimeSeriesPanel",
    "TooLargeError",
    "TooManyFilesError",
    "Trajectory",
    "VectorLayer",
    "YearError",
    "YearPicker",
    "angle_degrees",
    "anomaly",
    "anomaly_grid",
    "band_composite",
    "change",
    "change_year_map",
    "change_year_polygons",
    "change_years",
    "change_years_grid",
    "class_areas",
    "class_polygons",
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
    "export_anomaly",
    "export_change_years",
    "export_classes",
    "export_rgb",
    "export_similar_ee",
    "export_values",
    "find_similar",
    "k_means",
    "labels_from_bytes",
    "learning_curve",
    "load_classifier",
    "load_labels",
    "load_values",
    "make_map",
    "most_uncertain",
    "open_release",
    "open_source",
    "parse_place",
    "pixel_trajectory",
    "point_trajectory",
    "random_folds",
    "regress_grid",
    "robust_scale",
    "sample_points",
    "sample_source",
    "sample_truth",
    "save_classifier",
    "save_labels",
    "similarity",
    "spatial_folds",
    "threshold_polygons",
    "trajectory_grid",
    "write_cog",
    "write_geojson",
    "zonal_embeddings",
    "zonal_trajectories",
]
