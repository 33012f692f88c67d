"""What the browser sends to the kernel, sent the same way: comm messages into the real widgets."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from concurrent.futures import Executor, Future

import numpy as np
from PIL import Image


def send_custom(widget, content: dict) -> None:
    """A custom comm message from the frontend (map clicks, draw events)."""
    widget._handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})


def send_state(widget, state: dict) -> None:
    """A state update from the frontend (map bounds after a pan, a draw control's shapes)."""
    widget._handle_msg({"content": {"data": {"method": "update", "state": state}}, "buffers": []})


def upload(widget, name: str, content: bytes) -> None:
    """A file chosen in a ``FileUpload``: its state update, the content travelling as a binary buffer."""
    entry = {"name": name, "type": "", "size": len(content), "last_modified": 0}
    data = {"method": "update", "state": {"value": [entry]}, "buffer_paths": [["value", 0, "content"]]}
    widget._handle_msg({"content": {"data": data}, "buffers": [memoryview(content)]})


def click(m, lon: float, lat: float) -> None:
    send_custom(m, {"event": "interaction", "type": "click", "coordinates": [lat, lon]})


def draw(control, geometry: dict) -> None:
    """leaflet-draw's draw:created for a shape, then its echo of all shapes in ``data``."""
    feature = {"type": "Feature", "properties": {"style": {"color": "#ff7800"}}, "geometry": geometry}
    send_custom(control, {"event": "draw:created", "geo_json": feature})
    send_state(control, {"data": [*control.data, feature]})


def rectangle(west: float, south: float, east: float, north: float) -> dict:
    ring = [[west, south], [west, north], [east, north], [east, south], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def decode(url: str) -> Image.Image:
    """The PNG inside a data URL."""
    head, data = url.split(",", 1)
    assert head == "data:image/png;base64"
    return Image.open(io.BytesIO(base64.b64decode(data)))


def rgba(url: str) -> np.ndarray:
    return np.asarray(decode(url).convert("RGBA"))


class ManualExecutor(Executor):
    """Holds submitted work until the test runs it, in whatever order the test chooses."""

    def __init__(self) -> None:
        self.pending: list[tuple[Callable, Future]] = []

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        self.pending.append((lambda: fn(*args, **kwargs), future))
        return future

    def run(self, index: int) -> None:
        fn, future = self.pending.pop(index)
        future.set_result(fn())

    def run_all(self) -> None:
        while self.pending:
            self.run(0)
