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
    ClassAreas,
    EmbeddingKMeans,
    PCAComposite,
    PCAStretch,
    angle_degrees,
    band_composite,
    change,
    class_areas,
    k_means,
    similarity,
)
from .core.aoi import AOI
from .core.errors import (
    AEFError,
    AOIError,
    EarthEngineError,
    ExportError,
    NoDataError,
    SourceError,
    TooLargeError,
    YearError,
)
from .core.field import EmbeddingField
from .core.grid import Footprint, Grid
from .ee_auth import ee_available, ee_init, ee_status
from .engines import EarthEngineEngine, Engine, LocalEngine, engine_for
from .engines.ee_export import ExportTask
from .engines.workflows import cluster_grid
from .explorer import Explorer
from .sources import ATTRIBUTION, EarthEngineSource, EmbeddingSource, GeoTIFFSource, open_source
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

__version__ = "0.1.0"

__all__ = [
    "AOI",
    "ATTRIBUTION",
    "AEFError",
    "AOIDrawer",
    "AOIError",
    "AreaHistogram",
    "BandRGBSelector",
    "BandStretch",
    "ChangePanel",
    "ClassAreas",
    "ClusterPanel",
    "EarthEngineEngine",
    "EarthEngineError",
    "EarthEngineSource",
    "EmbeddingField",
    "EmbeddingKMeans",
    "EmbeddingSource",
    "Engine",
    "Explorer",
    "ExplorerState",
    "ExportError",
    "ExportTask",
    "Footprint",
    "GeoTIFFSource",
    "Grid",
    "LayerList",
    "LocalEngine",
    "NoDataError",
    "PCAComposite",
    "PCAStretch",
    "SimilarityProbe",
    "SourceError",
    "TooLargeError",
    "YearError",
    "YearPicker",
    "angle_degrees",
    "band_composite",
    "change",
    "class_areas",
    "cluster_grid",
    "ee_available",
    "ee_init",
    "ee_status",
    "engine_for",
    "k_means",
    "make_map",
    "open_source",
    "sample_source",
    "sample_truth",
    "similarity",
]
