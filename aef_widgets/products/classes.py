"""A class map trained on labelled points: classes and confidence layers, doubtful pixels, honest accuracy."""

from __future__ import annotations

from .declare import Draw, Family, Kind, Node

PRODUCT = Node("classes", ("source", "year", "aoi", "class_labels"))
LAYER = Draw(
    Node("classes layer", (PRODUCT, "label_classes", "view")), "Classes", Kind("classes", "classes", crisp=True)
)
CONFIDENCE = Draw(Node("confidence layer", (PRODUCT, "view")), "Confidence", Kind("confidence", "classes"))
SUGGESTIONS = Node("suggestions", (PRODUCT, "view"))
ACCURACY = Node("accuracy", (PRODUCT, "cv_block_size"))

CLASSES = Family(
    "classes", nodes=(PRODUCT, LAYER.node, CONFIDENCE.node, SUGGESTIONS, ACCURACY), kinds=(LAYER.kind, CONFIDENCE.kind)
)
