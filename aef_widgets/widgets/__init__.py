"""The widgets: each works alone (it has a ``value``) and composes with the others through ``ExplorerState``."""

from .aoi_drawer import AOIDrawer
from .band_rgb_selector import BandRGBSelector
from .change_panel import ChangePanel
from .cluster_panel import ClusterPanel
from .flow import GRAPH, Flow
from .jobs import Cancelled, JobRunner
from .layer_list import LayerList
from .map_view import make_map
from .place_finder import PlaceFinder
from .similarity_probe import SimilarityProbe
from .state import ExplorerState
from .year_picker import YearPicker

__all__ = [
    "GRAPH",
    "AOIDrawer",
    "BandRGBSelector",
    "Cancelled",
    "ChangePanel",
    "ClusterPanel",
    "ExplorerState",
    "Flow",
    "JobRunner",
    "LayerList",
    "PlaceFinder",
    "SimilarityProbe",
    "YearPicker",
    "make_map",
]
