"""AOIDrawer: the area of interest, drawn on the map, taken from the view, or loaded from GeoJSON."""

from __future__ import annotations

import ipyleaflet
import numpy as np
from ipywidgets import HTML, Button, FileUpload, HBox, Layout

from ..core.aoi import AOI
from ..core.errors import AOIError, NoDataError
from ..rendering.colors import AOI_COLOR
from ..sources.base import EmbeddingSource
from .base import Computed, Panel
from .draw_tool import DrawTool

#: The outline's colour is none of the class or highlight colours, so it never blends into a layer under it.
AOI_STYLE = {"color": AOI_COLOR, "weight": 2, "fillOpacity": 0.05, "fillColor": AOI_COLOR, "dashArray": "6 4"}
#: Above this many pixels the count is estimated from the area instead of rasterising the AOI.
_EXACT_COUNT_MAX_PX = 25_000_000
#: Largest GeoJSON upload accepted, as ``core.geojson.MAX_GEOJSON_BYTES``.
_MAX_UPLOAD_BYTES = 10 * 2**20


class AOIDrawer(Panel):
    """Draw a rectangle or polygon, use the view, or load GeoJSON; ``value`` is the ``AOI`` or None.

    Drawn shapes are handed over to an AOI layer of ours and removed from the draw control at once, so a cleared
    AOI can never come back from the draw control's own copy (a known ipyleaflet pitfall). The draw control is the
    map's one ``DrawTool``: a shape is the AOI unless another panel (classification) has taken the tool.
    """

    def __init__(self, state=None, **kwargs) -> None:
        super().__init__(state, **kwargs)
        self.info = HTML()
        self.use_view = Button(
            description="Use current view", tooltip="Set the AOI to what the map shows", layout=Layout(width="auto")
        )
        self.clear = Button(description="Clear AOI", tooltip="Remove the AOI", layout=Layout(width="auto"))
        self.upload = FileUpload(
            accept=".geojson,.json", multiple=False, description="Load GeoJSON", layout=Layout(width="auto")
        )
        self.use_view.on_click(self._use_view)
        self.clear.on_click(lambda _: self._set(None))
        self.upload.observe(self._uploaded, names="value")
        self.use_draw_tool("aoi", self._drawn, lambda: "Drawing on the map sets the AOI")
        if self.map is not None:
            DrawTool.of(self.map).take("aoi")  # first in charge: a shape is an AOI unless a panel takes the tool
        self.slot = self.layer_slot("AOI", "aoi")
        self.value = self.state.aoi
        self.link_value("aoi")
        self.summary = Computed(self, "aoi summary", self._prepare, self._show, label="measuring the AOI", heavy=True)
        hint = HTML("Draw a rectangle or polygon with the tool on the map." if self.map is not None else "")
        self.children = [hint, HBox([self.use_view, self.clear]), self.upload, self.info, self.status]
        self.add_class("aef-aoi-drawer")
        self.summary.update()

    @property
    def draw_control(self) -> ipyleaflet.DrawControl | None:
        """The map's draw control (shared with the panels that take shapes, see ``DrawTool``)."""
        return DrawTool.of(self.map).control if self.map is not None else None

    def _set(self, aoi: AOI | None) -> None:
        self.show_status("")
        self.value = aoi

    def _drawn(self, geo_json: dict) -> None:
        try:
            self._set(AOI.from_geojson(geo_json))
        except AOIError as e:
            self.show_error(e)

    def _use_view(self, _button=None) -> None:
        view = self.current_view()
        if view is None:
            self.show_status("There is no map view to use yet.", "error")
            return
        inside = view.clipped(self.state.source.footprint.lonlat_bounds())
        if inside is None:
            self.show_status("The view shows no data: pan to the dataset first.", "error")
            return
        self._set(AOI.from_bounds(*inside))

    def _uploaded(self, change) -> None:
        files = change["new"]
        if not files:
            return
        content = memoryview(files[0]["content"])
        if content.nbytes > _MAX_UPLOAD_BYTES:  # refused before it is decoded or parsed
            size, limit = content.nbytes / 2**20, _MAX_UPLOAD_BYTES / 2**20
            self.show_status(f"That file is {size:.1f} MB; GeoJSON AOIs up to {limit:.0f} MB load.", "error")
            return
        try:
            self._set(AOI.from_geojson(content))  # uploaded content is parsed as GeoJSON, never opened as a path
        except AOIError as e:
            self.show_error(e)

    def _prepare(self):
        aoi, source = self.state.aoi, self.state.source
        if self.slot is not None:
            if aoi is None:
                self.slot.remove()
            else:
                feature = {"type": "Feature", "properties": {}, "geometry": aoi.geometry}
                self.slot.show(ipyleaflet.GeoJSON(data=feature, style=AOI_STYLE))
        if aoi is None:
            return None
        self.info.value = f"AOI: {aoi.area_km2:,.2f} km² · counting pixels…"
        # rasterising a large AOI takes seconds: never on the kernel's loop
        return lambda job: describe(aoi, source)

    def _show(self, text: str | None) -> None:
        self.info.value = text if text is not None else "No AOI: clusters and areas use the current view."


def describe(aoi: AOI, source: EmbeddingSource) -> str:
    """The AOI in words: its area and how many pixels of the source it covers."""
    try:
        grid = source.grid(aoi)
    except NoDataError:
        return f"AOI: {aoi.area_km2:,.2f} km² — outside the data."
    if grid.width * grid.height <= _EXACT_COUNT_MAX_PX:
        count = f"{int(np.count_nonzero(aoi.mask(grid))):,}"
    else:
        count = f"≈{aoi.area_km2 * 1e6 / source.resolution**2:,.0f}"
    return f"AOI: {aoi.area_km2:,.2f} km² · {count} pixels at {grid.resolution_text} inside the data"
