"""Marks the classify panel puts on the map: its labels as dots in their class colours, and the suggested places
to label next as rings that label themselves when clicked.

A click on a ring is the ring's alone: Leaflet passes a vector layer's click on to the map unless the layer's
``bubblingMouseEvents`` option is false, and then the map's click handler would label the spot a second time.
``SuggestionRing`` sets that option (jupyter-leaflet hands every trait tagged ``o=True`` to Leaflet as an option,
camel-cased), so the map never hears the click: no time window needed to tell the two apart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ipyleaflet
from traitlets import Bool

from ..sources.labels import LabelPoint
from .layer_stack import LayerSlot

SUGGESTION_COLOR = "#000000"


class SuggestionRing(ipyleaflet.CircleMarker):
    """A circle marker whose clicks stay its own: Leaflet's ``bubblingMouseEvents: false``."""

    bubbling_mouse_events = Bool(False).tag(sync=True, o=True)


def label_group(labels: Sequence[LabelPoint], classes: Sequence[tuple[str, str]]) -> ipyleaflet.LayerGroup:
    """One dot per label, filled with its class's colour."""
    dots = [
        ipyleaflet.CircleMarker(
            location=(p.lat, p.lon),
            radius=4,
            color="#ffffff",
            weight=1,
            fill_color=classes[p.target][1],
            fill_opacity=1,
            name=f"label {i}",
        )
        for i, p in enumerate(labels)
        if 0 <= p.target < len(classes)
    ]
    return ipyleaflet.LayerGroup(layers=dots)


def show_labels(slot: LayerSlot | None, labels: Sequence[LabelPoint], classes: Sequence[tuple[str, str]]) -> None:
    if slot is None:
        return
    slot.show(label_group(labels, classes) if labels else None)


def show_suggestions(
    slot: LayerSlot | None, points: Sequence[tuple[float, float]], clicked: Callable[[float, float], None]
) -> list[ipyleaflet.CircleMarker]:
    """Rings at the suggested (lon, lat); a click on one calls ``clicked(lon, lat)`` with the ring's centre."""
    rings = []
    for lon, lat in points:
        ring = SuggestionRing(
            location=(lat, lon),
            radius=8,
            color=SUGGESTION_COLOR,
            weight=3,
            fill_color="#ffffff",
            fill_opacity=0.4,
            dash_array="4 3",
        )
        ring.on_click(lambda _lon=lon, _lat=lat, **_event: clicked(_lon, _lat))
        rings.append(ring)
    if slot is not None:
        slot.show(ipyleaflet.LayerGroup(layers=rings) if rings else None)
    return rings
