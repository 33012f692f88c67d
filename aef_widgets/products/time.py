"""Products over every year of the source: a pixel's (or the AOI's) trajectory, when each pixel changed most,
and how odd the state's year is (anomaly, a thresholded product)."""

from __future__ import annotations

from .declare import Draw, Family, Kind, Node
from .threshold import threshold_family

TRAJECTORY = Node("trajectory", ("source", "year", "aoi"))
CHANGE_YEARS = Node("change years", ("source", "aoi"))
CHANGE_YEARS_LAYER = Draw(
    Node("change years layer", (CHANGE_YEARS, "change_threshold", "view")), "When it changed",
    Kind("change years", "time", crisp=True),
)  # fmt: skip
CHANGE_YEARS_AREAS = Node("change years areas", (CHANGE_YEARS, "change_threshold"))
ANOMALY = threshold_family(
    "anomaly",
    ("source", "year", "aoi"),
    threshold="anomaly_threshold",
    values=("anomaly layer", "Anomaly", "anomaly"),
    above=("anomalous layer", "Anomalous pixels", "anomalous"),
    area="anomalous area",
    stack="time",
)

TIME = Family(
    "time",
    nodes=(TRAJECTORY, CHANGE_YEARS, CHANGE_YEARS_LAYER.node, CHANGE_YEARS_AREAS, *ANOMALY.nodes),
    kinds=(CHANGE_YEARS_LAYER.kind, *ANOMALY.kinds),
)
