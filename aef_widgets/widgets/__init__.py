"""The widgets: each works alone (it has a ``value``) and composes with the others through ``ExplorerState``."""

from .aoi_drawer import AOIDrawer
from .band_rgb_selector import BandRGBSelector
from .change_over_years import ChangeOverYears
from .change_panel import ChangePanel
from .class_editor import ClassEditor
from .classify_panel import ClassifyPanel
from .cluster_panel import ClusterPanel
from .flow import GRAPH, Flow
from .jobs import Cancelled, JobRunner
from .label_picker import LabelPicker
from .layer_list import LayerList
from .map_view import make_map
from .place_finder import PlaceFinder
from .search_wider import SearchWider
from .side_by_side import SideBySide
from .similarity_probe import SimilarityProbe
from .state import ExplorerState
from .time_series import TimeSeriesPanel
from .year_picker import YearPicker

__all__ = [
    "GRAPH",
    "AOIDrawer",
    "BandRGBSelector",
    "Cancelled",
    "ChangeOverYears",
    "ChangePanel",
    "ClassEditor",
    "ClassifyPanel",
    "ClusterPanel",
    "ExplorerState",
    "Flow",
    "JobRunner",
    "LabelPicker",
    "LayerList",
    "PlaceFinder",
    "SearchWider",
    "SideBySide",
    "SimilarityProbe",
    "TimeSeriesPanel",
    "YearPicker",
    "make_map",
]
