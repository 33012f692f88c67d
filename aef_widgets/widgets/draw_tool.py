"""DrawTool: the one draw control of a map, shared by the panels that take drawn shapes; what a shape means follows
the panel in charge, and a word next to the tool says it.

Two ``DrawControl`` on one map both hear every shape: jupyter-leaflet's view listens for ``draw:created`` on the
map, not on its own toolbar, so a polygon drawn with either toolbar reached both the AOI and the labels, and
removing one control unhooked the other (its ``remove`` calls ``map.off("draw:created")``). Hence one control per
map, handed from panel to panel.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipyleaflet
from ipywidgets import HTML

from ..rendering.colors import AOI_COLOR
from .lifecycle import close_widget
from .per_map import PerMap

#: How a shape looks while it is drawn (it is replaced at once by the AOI outline or by label dots).
DRAW_STYLE = {"color": AOI_COLOR, "weight": 2, "fillOpacity": 0.05, "fillColor": AOI_COLOR, "dashArray": "6 4"}
_HINT_STYLE = "background:rgba(255,255,255,0.9);padding:1px 6px;border-radius:3px;font-size:12px"


class DrawTool(PerMap):
    """A map's draw control (rectangle and polygon); ``take(user)`` puts a user in charge, ``release`` hands back.

    Users register a callback for a drawn GeoJSON feature and the words saying what drawing does for them. The last
    user to take the tool gets the shapes; with no user in charge, the tool leaves the map.
    """

    def __init__(self, m: ipyleaflet.Map) -> None:
        super().__init__(m)
        self.control: ipyleaflet.DrawControl | None = None
        self.hint = HTML()
        self.hint.add_class("aef-draw-hint")
        self.hint_control: ipyleaflet.WidgetControl | None = None
        self._users: dict[str, tuple[Callable[[dict], None], Callable[[], str]]] = {}
        self._in_charge: list[str] = []

    @property
    def user(self) -> str | None:
        """The user a drawn shape goes to now."""
        return self._in_charge[-1] if self._in_charge else None

    def register(self, name: str, on_shape: Callable[[dict], None], words: Callable[[], str]) -> None:
        """``on_shape(feature)`` gets the shapes drawn while ``name`` is in charge; ``words()`` says what they do."""
        self._users[name] = (on_shape, words)

    def unregister(self, name: str) -> None:
        """Forget ``name`` (a closed panel): it gets no more shapes; the tool leaves the map if no one else has it."""
        self._users.pop(name, None)
        self.release(name)

    def take(self, name: str) -> None:
        self._in_charge = [n for n in self._in_charge if n != name] + [name]
        self.refresh()

    def release(self, name: str) -> None:
        self._in_charge = [n for n in self._in_charge if n != name]
        self.refresh()

    def refresh(self) -> None:
        """Show the tool and the words of the user in charge (say, after the class being labelled changed)."""
        user = self.user
        if user is None:
            self._hide()
            return
        if self.control is None:
            self._show()
        words = self._users[user][1]()
        self.hint.value = f'<div style="{_HINT_STYLE}">{html.escape(words)}</div>'

    def close(self) -> None:
        """Take the tool off its closing map and close its widgets."""
        self._users.clear()
        self._in_charge.clear()
        self._hide()
        close_widget(self.hint)

    def _show(self) -> None:
        # a control taken off the map is closed (its view unhooked the map's draw events): a new one each time
        self.control = ipyleaflet.DrawControl(
            position="topleft", rectangle={"shapeOptions": DRAW_STYLE}, polygon={"shapeOptions": DRAW_STYLE},
            polyline={}, circlemarker={}, circle={}, marker={}, edit=False, remove=False,
        )  # fmt: skip
        self.control.on_draw(self._drawn)
        self.hint_control = ipyleaflet.WidgetControl(widget=self.hint, position="topleft")
        self.map.add(self.control)
        self.map.add(self.hint_control)

    def _hide(self) -> None:
        m = self.map_if_alive()
        for control in (self.control, self.hint_control):
            if control is not None:
                if m is not None and any(c is control for c in m.controls):
                    m.remove(control)
                control.close()
        self.control = self.hint_control = None

    def _drawn(self, control, action: str, geo_json: dict) -> None:
        if action != "created":
            return
        control.clear()  # the shape lives on as the user's layer; the control keeps no copy to resurrect
        user = self.user
        if user is not None:
            self._users[user][0](geo_json)
