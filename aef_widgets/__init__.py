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

from .analysis import (
    AreaHistogram,
    BandStretch,
    ChangeYears,
    ClassAreas,
    EmbeddingKMeans,
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
    k_means,
    pixel_trajectory,
    robust_scale,
    similarity,
    threshold_polygons,
)
from .core.aoi import AOI
from .core.errors import AEFError, AOIError, EarthEngineError, NoDataError, SourceError, YearError
from .core.field import EmbeddingField
from .core.grid import Footprint, Grid
from .ee_auth import ee_available, ee_init, ee_status
from .engines import EarthEngineEngine, Engine, LocalEngine, engine_for
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
from .engines.temporal_workflows import (
    AnomalyMap,
    anomaly_grid,
    change_years_grid,
    point_trajectory,
    trajectory_grid,
)
from .engines.workflows import cluster_grid
from .explorer import Explorer
from .sources import ATTRIBUTION, EarthEngineSource, EmbeddingSource, GeoTIFFSource, open_source
from .sources.cog_export import write_cog
from .sources.sample import PlantedEvent, SampleTruth, sample_source, sample_truth
from .sources.vector_export import write_geojson
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

__version__ = "0.1.0"

__all__ = [
    "AOI",
    "ATTRIBUTION",
    "AEFError",
    "AOIDrawer",
    "AOIError",
    "AnomalyMap",
    "AreaHistogram",
    "BandRGBSelector",
    "BandStretch",
    "ChangePanel",
    "ChangeYears",
    "ClassAreas",
    "ClusterPanel",
    "EETemporal",
    "EarthEngineEngine",
    "EarthEngineError",
    "EarthEngineSource",
    "EmbeddingField",
    "EmbeddingKMeans",
    "EmbeddingSource",
    "Engine",
    "Explorer",
    "ExplorerState",
    "ExportTask",
    "Footprint",
    "GeoTIFFSource",
    "Grid",
    "LayerList",
    "LocalEngine",
    "LocalTemporal",
    "NoDataError",
    "PCAComposite",
    "PCAStretch",
    "PlantedEvent",
    "RobustScale",
    "SampleTruth",
    "SimilarityProbe",
    "SourceError",
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
    "cluster_grid",
    "ee_available",
    "ee_init",
    "ee_status",
    "engine_for",
    "export_anomaly",
    "export_change_years",
    "export_classes",
    "export_rgb",
    "export_values",
    "k_means",
    "make_map",
    "open_source",
    "pixel_trajectory",
    "point_trajectory",
    "robust_scale",
    "sample_source",
    "sample_truth",
    "similarity",
    "threshold_polygons",
    "trajectory_grid",
    "write_cog",
    "write_geojson",
]
