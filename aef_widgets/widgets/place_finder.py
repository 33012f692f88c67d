"""PlaceFinder: go to a place typed as "lon, lat" or "west, south, east, north", for sources that cover the world."""

from __future__ import annotations

from ipywidgets import Button, HBox, Layout, Text

from ..core.errors import AOIError
from ..core.place import Place, parse_place
from .base import Panel

#: Zoom a typed point opens at: about 1.5 km across, where 10 m pixels are clearly seen.
POINT_ZOOM = 15


class PlaceFinder(Panel):
    """A "go to" box; ``value`` is the last ``Place`` gone to (or None). Needs a map to move."""

    def __init__(self, state=None, **kwargs) -> None:
        super().__init__(state, **kwargs)
        # the text reaches the kernel when it is committed (Enter, or leaving the box), not at every key
        self.text = Text(
            placeholder="lon, lat  or  west, south, east, north",
            layout=Layout(width="auto", flex="1 1 auto"),
            continuous_update=False,
        )
        self.text.add_class("aef-place-text")
        # A committed text goes there. Enter also sends a "submit" message (what on_submit, deprecated in ipywidgets
        # 8, listened for), which goes there again when the text is unchanged. It cannot go there alone: while a
        # widget's last update is unanswered (a busy kernel) the frontend holds back its next ones but not its
        # messages (``_msg_buffer`` in @jupyter-widgets/base), so Enter could arrive before the last keys typed.
        self.text.observe(self._committed, names="value")
        self.text.on_msg(lambda _w, content, _b: content.get("event") == "submit" and self.go_to_text())
        self.go = Button(description="Go", layout=Layout(width="4em"), tooltip="Move the map to this place")
        self.go.on_click(lambda _: self.go_to_text())
        self.value = None
        self.children = [HBox([self.text, self.go]), self.status]
        self.add_class("aef-place-finder")

    def _committed(self, change) -> None:
        # a box emptied and left is a user clearing it, not asking to go nowhere: no error, the map stays
        if change["new"].strip():
            self.go_to_text()
        else:
            self.show_status("")

    def go_to_text(self) -> None:
        """Go where the box says; a typo is explained, the map does not move."""
        try:
            self.go_to(parse_place(self.text.value))
        except AOIError as e:
            self.show_error(e)

    def go_to(self, place: Place) -> None:
        self.show_status("")
        self.value = place
        if self.map is None:
            return
        if place.is_point:
            lon, lat = place.center
            self.map.center, self.map.zoom = (lat, lon), POINT_ZOOM
        else:
            west, south, east, north = place.bounds
            self.map.fit_bounds([[south, west], [north, east]])
