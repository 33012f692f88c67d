"""ChangeOverYears: over all the years of the AOI, when each pixel changed most, and how odd the state's year is."""

from __future__ import annotations

import tempfile
from pathlib import Path

from ipywidgets import HTML, Button, Checkbox, FloatSlider, HBox, Layout

from ..engines.temporal_products import AnomalyProduct, ChangeYearsProduct, anomaly_product, change_years_product
from ..products.time import ANOMALY
from ..rendering.legend import colorbar_html, table_html
from .base import KEEP, Computed, Panel, ProductLayer
from .exports import saved_file_html
from .thresholded_layers import ThresholdedLayers


class ChangeOverYears(Panel):
    """Maps over every year of the source in the AOI; ``value`` is the when-it-changed product shown (or None).

    *When it changed*: each pixel in the colour of the year of its largest year-to-year change, where that change
    is at least the change threshold, with the area per year. *Anomaly*: how far the state's year departs from
    each pixel's other years, as a robust score across the AOI (3 = three typical spreads), and the pixels above
    a threshold with their area.
    """

    def __init__(self, state=None, *, export_dir: str | Path | None = None, **kwargs) -> None:
        super().__init__(state, **kwargs)
        self.export_dir = Path(export_dir) if export_dir is not None else None
        self.export_cog = Button(description="Export COG", disabled=True, layout=Layout(width="auto"))
        self.export_cog.on_click(lambda _: self.export("tif"))
        self.export_geojson = Button(description="Export GeoJSON", disabled=True, layout=Layout(width="auto"))
        self.export_geojson.on_click(lambda _: self.export("geojson"))
        self.download = HTML()
        self.show_when = Checkbox(value=False, description="When did it change (all years, in the AOI)", indent=False)
        self.show_anomaly = Checkbox(value=False, description="Anomaly of the year shown", indent=False)
        self.threshold = FloatSlider(
            min=0.0, max=1.0, step=0.01, description="Change ≥", readout_format=".2f", layout=Layout(width="auto")
        )
        self.bind(self.threshold, "change_threshold")
        self.anomaly_threshold = FloatSlider(
            min=0.0, max=20.0, step=0.5, description="Score ≥", readout_format=".1f", layout=Layout(width="auto")
        )
        self.bind(self.anomaly_threshold, "anomaly_threshold")
        self.legend = HTML()
        self.legend.add_class("aef-change-years-legend")
        self.colorbar = HTML()
        self.when = Computed(
            self, "change years", self._prepare_when, self._show_when, label="when it changed", heavy=True,
            key=lambda: self.flow.key("change years").plus(shown=self.show_when.value),
        )  # fmt: skip
        self.when_layer = ProductLayer(
            self, "change years layer", "change years", "When it changed", "change years",
            draw=lambda product, ctx, view: product.layer(ctx, view, self.state.change_threshold),
        )  # fmt: skip
        self.areas = Computed(self, "change years areas", self._prepare_areas, self._show_areas, heavy=True)
        self.anomaly = Computed(
            self, "anomaly", self._prepare_anomaly, self._show_anomaly, label="anomaly", heavy=True,
            key=lambda: self.flow.key("anomaly").plus(shown=self.show_anomaly.value),
        )  # fmt: skip
        self.anomaly_layers = ThresholdedLayers.declared(self, ANOMALY, label="Anomalous")
        self.anomalous = self.anomaly_layers.area_text
        self.show_when.observe(lambda change: self._asked(self.when, change["new"]), names="value")
        self.show_anomaly.observe(lambda change: self._asked(self.anomaly, change["new"]), names="value")
        self.children = [
            HTML("<b>Over all years</b>"), self.show_when, self.threshold, self.legend,
            HBox([self.export_cog, self.export_geojson]), self.download, self.show_anomaly,
            self.colorbar, self.anomaly_threshold, self.anomalous, self.status,
        ]  # fmt: skip
        self.add_class("aef-change-over-years")

    @property
    def anomaly_map(self) -> AnomalyProduct | None:
        """The anomaly shown, if any."""
        return self.flow.values.get("anomaly")

    def _asked(self, node: Computed, shown: bool) -> None:
        node.update()
        if shown and self.map is not None:
            self.layer_stack().bring_to_top("time")

    def _clear_status(self, product) -> None:
        # a request's words stay until it is answered, or until nothing is asked any more
        if product is not None or not (self.show_when.value or self.show_anomaly.value):
            self.show_status("")

    def _needs_aoi(self) -> bool:
        if self.state.aoi is None:
            self.show_status("Draw an AOI first: maps over all years are computed in it, at 10 m.")
            return True
        return False

    def _prepare_when(self):
        if not self.show_when.value or self._needs_aoi():
            return None
        engine, aoi = self.state.engine, self.state.aoi
        self.show_status(f"Finding when each pixel changed, over {len(self.state.source.years)} years…", "busy")
        return lambda job: change_years_product(engine, aoi, job.progress)

    def _show_when(self, product: ChangeYearsProduct | None) -> None:
        self._clear_status(product)
        self.value = product
        self.flow.set("change years", product)
        self.export_cog.disabled = self.export_geojson.disabled = product is None
        self.download.value = ""

    def export(self, kind: str) -> None:
        """Write the when-it-changed map shown, at the current threshold: a COG ("tif") or polygons ("geojson")."""
        product, threshold, ctx = self.value, self.state.change_threshold, self.state.engine.context
        if product is None:
            self.show_status("Show when it changed first.", "error")
            return
        if self.export_dir is None:
            self.export_dir = Path(tempfile.mkdtemp(prefix="aef-export-"))
        path = self.export_dir / f"aef_change_years_{threshold:.2f}.{kind}"
        self.show_status(f"Writing {path.name}…", "busy")

        def work(job) -> str:
            write = product.export if kind == "tif" else product.export_polygons
            written = write(ctx, path, threshold)
            return saved_file_html(written)

        def done(link: str) -> None:
            if self.value is product:  # another map is shown now: this file is not its
                self.download.value = link
                self.show_status("Exported.", "ok")

        self.runner.submit("export", work, done, self.show_error, label="export", heavy=True)

    def _prepare_areas(self):
        product = self.flow.values.get("change years")
        if product is None:
            return None
        if not self.flow.is_current("change years"):
            return KEEP
        threshold = self.state.change_threshold
        return lambda job: (product, threshold, product.areas(threshold))

    def _show_areas(self, result) -> None:
        if result is None:
            self.legend.value = ""
            return
        product, threshold, areas = result
        rows = [(str(y), f"{h:,.2f}") for y, h in zip(areas.classes, areas.hectares)]
        rows.append((f"Total changed ≥ {threshold:.2f}", f"{areas.total_ha:,.2f}"))
        self.legend.value = table_html(("year of largest change", "ha"), rows, [*product.colors, "transparent"])

    def _prepare_anomaly(self):
        if not self.show_anomaly.value or self._needs_aoi():
            return None
        engine, aoi, year = self.state.engine, self.state.aoi, self.state.year
        self.show_status(f"Measuring how far {year} departs from the other years…", "busy")
        return lambda job: anomaly_product(engine, year, aoi, job.progress)

    def _show_anomaly(self, product: AnomalyProduct | None) -> None:
        self._clear_status(product)
        self.flow.set("anomaly", product)
        if product is None:
            self.colorbar.value = ""
            return
        label = f"Anomaly of {product.year}: robust score (spreads above the AOI's median)"
        self.colorbar.value = colorbar_html(product.cmap, product.vmin, product.vmax, label)
