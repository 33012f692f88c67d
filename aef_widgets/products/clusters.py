"""K-means clusters of the AOI (else the view), drawn as categories."""

from __future__ import annotations

from .declare import Draw, Family, Kind, Node

PRODUCT = Node("clusters", ("source", "year", "aoi"))
LAYER = Draw(Node("clusters layer", (PRODUCT, "view")), "Clusters", Kind("clusters", "clusters", crisp=True))

CLUSTERS = Family("clusters", nodes=(PRODUCT, LAYER.node), kinds=(LAYER.kind,))
