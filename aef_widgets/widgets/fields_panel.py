"""FieldsPanel: a layer of polygons loaded from a file, each field coloured by a per-field product of its embeddings
(k-means of the fields, fields like a clicked one, change between two years and over all years, classes), a sortable
list of the fields that flies the map to the one chosen, the chosen field outlined with its years charted (a part of
its own, ``field_trajectory``), and the table saved as GeoParquet or GeoJSON. The product is declared in
``products.fields``; the fields are drawn as one raster of field ids (``rendering.field_ids``)."""

from __future__ import annotations

import html
import math
import shutil
import tempfile
from pathlib import Path

from ipywidgets import HTML, Button, Checkbox, Dropdown, FileUpload, HBox, IntSlider, Layout, Select, Text

from ..analysis.geotable import read_polygons
from ..core.errors import UsageError
from ..products.fields import KIND, PRODUCT, PRODUCTS, FieldLayer, FieldValues, field_values
from ..rendering.colors import categorical_colors
from ..rendering.field_ids import FieldRaster, field_colors, field_overlay, field_raster
from ..rendering.legend import colorbar_html, table_html
from .base import Computed, Panel, error_message
from .exports import export_folder, save_table, saved_file_html
from .field_trajectory import FieldTrajectory, field_names

#: Vector files a user may upload (a Shapefile zipped with its .shx, .dbf and .prj).
UPLOAD_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".parquet", ".geoparquet")
MAX_UPLOAD_BYTES = 200 * 2**20
#: Rows listed at once: a Select of 10,000 labels is slow to send and to scroll; the sort decides which show.
MAX_ROWS = 500
SORTS = {"Value, high first": "desc", "Value, low first": "asc", "Layer order": "layer"}
_PRODUCT_CHOICES = [("K-means clusters of the fields", "clusters"), ("Like the clicked field", "similarity"),
                    ("Change between the change years", "change"), ("Largest change from a year to the next", "steps"),
                    ("Classes learnt from labelled fields", "classes")]  # fmt: skip
_CMAPS = {"similarity": ("viridis", -1.0, 1.0), "change": ("magma", 0.0, 1.0), "steps": ("magma", 0.0, 1.0)}


class FieldsPanel(Panel):
    """Per-field products of a polygon layer; ``value`` is the ``FieldValues`` shown (or None).

    Load a layer by uploading a GeoJSON, GeoPackage, zipped Shapefile or GeoParquet, or (with ``paths=True``) by
    typing its path. With ``picking`` on, a click on the map chooses the field the others are compared to; that
    field, or the one chosen in the list, is outlined on the map and its change over every year charted
    (``chosen``, a ``FieldTrajectory``).

    ``paths`` is off by default, and in the Explorer: an app served to visitors must offer nowhere to type a path
    on the server (README, "Notebooks, Voila and Binder"). In your own notebook, ``FieldsPanel(..., paths=True)``
    or ``panel.load(path, name)`` opens a file on your disk.
    """

    def __init__(
        self, state=None, *, export_dir: str | Path | None = None, paths: bool = False, **kwargs
    ) -> None:  # fmt: skip
        super().__init__(state, **kwargs)
        self._folder = export_folder(export_dir)
        self.picking = Checkbox(value=False, description="Click a field to find the fields like it", indent=False)
        self.upload = FileUpload(accept=",".join(UPLOAD_SUFFIXES), multiple=False, description="Load fields")
        self.upload.observe(self._uploaded, names="value")
        self.path: Text | None = None
        self.open_path: Button | None = None
        if paths:
            self.path = Text(placeholder="…or the path of a vector file", layout=Layout(width="auto"))
            self.open_path = Button(description="Open", layout=Layout(width="6em"))
            self.open_path.on_click(lambda _: self.load(self.path.value.strip(), self.path.value.strip()))
        self.product_choice = Dropdown(options=_PRODUCT_CHOICES, description="Colour by", layout=Layout(width="auto"))
        self.bind(self.product_choice, "field_product")
        self.clusters = IntSlider(min=2, max=20, description="Clusters", layout=Layout(width="auto"))
        self.bind(self.clusters, "field_clusters")
        self.label_column = Dropdown(options=[("(no labels)", "")], description="Labels in",
                                     layout=Layout(width="auto"))  # fmt: skip
        self.bind(self.label_column, "field_labels")
        self.sort = Dropdown(options=list(SORTS), description="Sort", layout=Layout(width="auto"))
        self.sort.observe(lambda _: self._list_rows(), names="value")
        self.rows = Select(options=[], rows=10, layout=Layout(width="auto"))
        self.rows.observe(self._row_chosen, names="value")
        self.save_parquet = Button(description="Save GeoParquet", disabled=True, layout=Layout(width="auto"))
        self.save_geojson = Button(description="Save GeoJSON", disabled=True, layout=Layout(width="auto"))
        self.save_parquet.on_click(lambda _: self.export("parquet"))
        self.save_geojson.on_click(lambda _: self.export("geojson"))
        self.notice, self.legend, self.download = HTML(), HTML(), HTML()
        self.slot = self.layer_slot("Fields", KIND.name)
        self._raster: tuple[FieldLayer, FieldRaster] | None = None
        self._channel = f"fields-load-{id(self)}"
        self._detach.append(lambda: self.runner.cancel(self._channel))
        #: The folder holding the latest upload's copy until its read removes it; a read superseded before it ran
        #: (a second upload, the panel closed) never does, so the panel removes it then.
        self._upload_copy: Path | None = None
        self._detach.append(self._remove_upload_copy)
        self.computed = Computed(self, PRODUCT.name, self._prepare, self._show, label="fields", heavy=True)
        #: The chosen field: its outline on the map and its years charted.
        self.chosen = FieldTrajectory(self.state, map=self.map, runner=self.runner)
        self.on_map_interaction(self._map_event)
        self.children = [
            self.upload, *([HBox([self.path, self.open_path])] if paths else []),
            self.notice, self.picking, self.product_choice,
            self.clusters, self.label_column, self.legend, self.sort, self.rows,
            self.chosen, HBox([self.save_parquet, self.save_geojson]), self.download, self.status,
        ]  # fmt: skip
        self.add_class("aef-fields-panel")
        self.computed.update()

    @property
    def product(self) -> FieldValues | None:
        """The per-field values shown, if any."""
        return self.flow.values.get(PRODUCT.name)

    def load(self, path: str, name: str, *, remove: Path | None = None) -> None:
        """Read a layer of polygons in the background; refused in words if it cannot be used. ``remove``: a
        folder deleted once read (an upload's)."""
        if not path:
            self._refused(UsageError("type the path of a GeoJSON, GeoPackage, Shapefile or GeoParquet file"))
            return
        self.notice.value = ""
        self.show_status(f"Reading {name}…", "busy")
        self.runner.submit(self._channel, lambda job: _read_layer(path, name, remove), self._loaded, self._refused,
                           label="fields")  # fmt: skip

    def export(self, kind: str) -> Path | None:
        """Save the table shown (the layer's columns, the embeddings and the product) as GeoParquet or GeoJSON."""
        values = self.product
        if values is None:
            return None
        try:
            path = save_table(values.frame(), self._folder, f"fields_{values.product}_{values.year}", kind, "table")
        except UsageError as e:
            self._refused(e)
            return None
        self.download.value = saved_file_html(path)
        return path

    def fly_to(self, position: int) -> None:
        """Fit the map to one field (position in the layer)."""
        if self.map is not None and self._raster is not None:
            self.map.center, self.map.zoom = self._raster[1].center_zoom(position)

    def show_on_map(self, on: bool) -> None:
        """Put the chosen field's outline on the map, or take it off (the Explorer does outside the Fields tab)."""
        self.chosen.show_on_map(on)

    def _uploaded(self, change) -> None:
        files = change["new"]
        if not files:
            return
        name, content = files[0]["name"], memoryview(files[0]["content"])
        suffix = Path(name).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            self._refused(UsageError(
                f"{name} is not a vector file this tab reads: upload GeoJSON, GeoPackage, a zipped Shapefile "
                "(.zip with its .shp, .shx, .dbf and .prj) or GeoParquet"
            ))  # fmt: skip
            return
        if content.nbytes > MAX_UPLOAD_BYTES:
            self._refused(UsageError(f"{name} is {content.nbytes / 2**20:.0f} MB; open large layers by their path"))
            return
        # the content goes to a file of our own naming: the uploaded name only lends its suffix to the driver
        self._remove_upload_copy()  # the last upload's, if its read has not run: it never will now
        folder = self._upload_copy = Path(tempfile.mkdtemp(prefix="aef-fields-"))
        path = folder / f"upload{suffix}"
        path.write_bytes(content)
        self.load(str(path), name, remove=folder)

    def _remove_upload_copy(self) -> None:
        if self._upload_copy is not None:
            shutil.rmtree(self._upload_copy, ignore_errors=True)
            self._upload_copy = None

    def _loaded(self, loaded: tuple[FieldLayer, FieldRaster]) -> None:
        layer, raster = loaded
        # the product shown is another layer's: its rows are positions in that layer, its table not this one's
        self._show(None)
        self._raster = loaded
        self.show_status("")
        self.notice.value = html.escape(f"{len(layer):,} field{'s' if len(layer) != 1 else ''} from {layer.name}.")
        columns = [str(c) for c in layer.table.columns if c != layer.table.geometry.name]
        self.label_column.options = [("(no labels)", ""), *((c, c) for c in columns)]
        with self.state.hold_trait_notifications():
            self.state.field_reference = self.state.field_chosen = -1
            self.state.field_labels = self.label_column.value
            self.state.field_layer = layer
        if self.map is not None:
            self.map.center, self.map.zoom = raster.center_zoom()

    def _refused(self, error: BaseException) -> None:
        self.show_status("")
        self.notice.value = f'<span style="color:#b00020">{html.escape(error_message(error))}</span>'

    def _map_event(self, **event) -> None:
        if event.get("type") != "click" or not self.picking.value or self._raster is None:
            return
        lat, lon = event["coordinates"]
        position = self._raster[1].field_at(lon, lat)
        if position is None:
            self.notice.value = "No field there: click inside one of the fields."
            return
        self.notice.value = ""
        with self.state.hold_trait_notifications():
            self.state.field_reference = self.state.field_chosen = position
            self.state.field_product = "similarity"

    def _prepare(self):
        state = self.state
        layer = state.field_layer
        if layer is None:
            return None
        ctx, known = state.engine.context, self._raster
        args = (state.year, layer, state.field_product, state.field_clusters, state.field_reference, state.change_years,
                state.field_labels, state.cv_block_size)  # fmt: skip
        self.show_status("Measuring the fields…", "busy")

        def work(job):
            raster = known[1] if known is not None and known[0] is layer else field_raster(layer.table)
            values = field_values(ctx, *args)
            return values, raster, field_overlay(raster, _colors(values))

        return work

    def _show(self, result) -> None:
        self.show_status("")
        values = None if result is None else result[0]
        if result is not None:
            self._raster = (values.layer, result[1])
        self.flow.set(PRODUCT.name, values)
        self.value = values
        if self.slot is not None:
            self.slot.show(None if result is None else result[2])
        self.save_parquet.disabled = self.save_geojson.disabled = values is None
        self.legend.value = "" if values is None else _legend(values)
        self._list_rows()

    def _list_rows(self) -> None:
        values = self.product
        if values is None:
            self.rows.options = []
            return
        order = _order(values, SORTS[self.sort.value])[:MAX_ROWS]
        names = field_names(values.layer.table)
        self.rows.value = None
        self.rows.options = [(f"{names[i]}: {_number(values, i)}", int(i)) for i in order]

    def _row_chosen(self, change) -> None:
        if change["new"] is not None:
            self.state.field_chosen = change["new"]
            self.fly_to(change["new"])


def _read_layer(path: str, name: str, remove: Path | None) -> tuple[FieldLayer, FieldRaster]:
    try:
        layer = FieldLayer(name, read_polygons(path))  # read whole: nothing reads the file later
    finally:
        if remove is not None:
            shutil.rmtree(remove, ignore_errors=True)
    return layer, field_raster(layer.table)


def _colors(values: FieldValues):
    if values.categorical:
        return field_colors(values.values, True, categorical_colors(20))
    cmap, vmin, vmax = _CMAPS[values.product]
    return field_colors(values.values, False, cmap=cmap, vmin=vmin, vmax=vmax)


def _legend(values: FieldValues) -> str:
    if values.categorical:
        k = len(values.classes) or (int(values.values.max()) + 1 if len(values.values) else 0)
        colors, names = categorical_colors(20), values.classes or tuple(range(1, k + 1))
        rows = [(names[c], int((values.values == c).sum())) for c in range(k)]
        legend = table_html([PRODUCTS[values.product], "Fields"], rows, [colors[c % 20] for c in range(k)])
        return legend + (f"<div>{html.escape(values.note)}</div>" if values.classes else "")
    cmap, vmin, vmax = _CMAPS[values.product]
    return colorbar_html(cmap, vmin, vmax, f"{PRODUCTS[values.product]} of each field ({values.note})")


def _order(values: FieldValues, how: str):
    import numpy as np

    v = np.asarray(values.values, dtype=np.float64)
    if how == "layer":
        return np.arange(len(v))
    key = np.where(np.isfinite(v) & (v >= 0 if values.categorical else True), v, np.nan)
    order = np.argsort(-key if how == "desc" else key, kind="stable")  # fields without a value last
    return order


def _number(values: FieldValues, i: int) -> str:
    v = values.values[i]
    if values.categorical:
        return "no data" if v < 0 else values.classes[v] if values.classes else f"cluster {int(v) + 1}"
    return "no data" if not math.isfinite(v) else f"{PRODUCTS[values.product].lower()} {v:.3f}"
