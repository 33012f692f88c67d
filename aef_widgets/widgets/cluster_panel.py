"""ClusterPanel: k-means of the AOI, drawn as crisp classes with a legend, areas and a GeoTIFF export."""

from __future__ import annotations

import tempfile
from pathlib import Path

from ipywidgets import HTML, Button, FloatProgress, HBox, IntSlider, IntText, Layout

from ..core.execution import shared
from ..engines.base import ClusterProduct
from ..rendering.legend import table_html
from .base import Computed, Panel, ProductLayer
from .exports import saved_file_html, watch_task
from .jobs import InlineExecutor, JobRunner


class ClusterPanel(Panel):
    """Choose k and the sample size, run k-means; ``value`` is the latest ``ClusterProduct`` (or None).

    Runs in the AOI at native resolution, or in the current view when there is no AOI. Re-runs by itself when the
    year or source changes, and clears when the AOI changes, so the map never shows clusters of another year or
    area; a run that is superseded stops at its next chunk.
    """

    #: Seconds between two status requests of an Earth Engine export task.
    poll_seconds = 10.0

    def __init__(self, state=None, *, export_dir: str | Path | None = None, seed: int = 0, **kwargs) -> None:
        super().__init__(state, **kwargs)
        self.seed = seed
        self.export_dir = Path(export_dir) if export_dir is not None else None
        self.k = IntSlider(min=2, max=20, description="Clusters", layout=Layout(width="auto"))
        self.samples = IntText(description="Samples", layout=Layout(width="12em"))
        self.bind(self.k, "n_clusters")
        self.bind(self.samples, "n_samples")
        self.run = Button(description="Run k-means", button_style="primary", layout=Layout(width="auto"))
        self.run.on_click(lambda _: self.start())
        self.cancel_button = Button(description="Cancel", layout=Layout(width="auto", display="none"))
        self.cancel_button.on_click(lambda _: self.cancel())
        self.progress = FloatProgress(min=0, max=1, layout=Layout(width="auto", visibility="hidden"))
        self.legend = HTML()
        self.export_button = Button(description="Export GeoTIFF", disabled=True, layout=Layout(width="auto"))
        self.export_button.on_click(lambda _: self._export_clicked())
        self.drive_button = Button(description="Export to Google Drive", layout=Layout(width="auto", display="none"))
        self.drive_button.on_click(lambda _: self.start_export_task("drive"))
        # batch exports run for minutes: they get a thread apart (one for the process, not one per panel that
        # nothing would ever shut down) so the map stays responsive
        inline = isinstance(self.runner.executor, InlineExecutor)
        self.task_runner = JobRunner.inline() if inline else JobRunner(shared("export-tasks", 1))
        self._detach.append(self.task_runner.close)  # the panel's own runner: closed with it
        self.download = HTML()
        self._wanted = False  # the user asked for clusters, and has not moved the AOI since
        self.computed = Computed(
            self,
            "clusters",
            self._prepare,
            self._show,
            label="k-means",
            progress=self._progress,
            fail=self._failed,
            heavy=True,
        )
        self.layer = ProductLayer(self, "clusters layer", "clusters", "Clusters", "clusters")
        self.children = [
            self.k, self.samples, HBox([self.run, self.cancel_button, self.export_button, self.drive_button]),
            self.progress, self.status, self.legend, self.download,
        ]  # fmt: skip
        self.add_class("aef-cluster-panel")

    def start(self) -> None:
        """Run k-means with the current settings in the background."""
        self._wanted = True
        self.computed.update(force=True)
        if self.map is not None:
            self.layer_stack().bring_to_top("clusters")

    def cancel(self) -> None:
        """Stop a run; what was shown before stays cleared."""
        self._wanted = False
        self.computed.cancel()
        self._running(False)
        self.show_status("Cancelled.")

    def _prepare(self):
        old = self.computed.key
        aoi_moved = old is not None and old["aoi"] != self.flow.key("clusters")["aoi"]
        if aoi_moved and self._wanted:
            self._wanted = False
            self._clear()
            self.show_status("The AOI changed: run k-means again.")
        if not self._wanted:
            return None
        state = self.state
        year, aoi, view, engine = state.year, state.aoi, self.current_view(), state.engine
        k, n = state.n_clusters, state.n_samples
        self._clear()  # clusters of another year or area are never left on the map meanwhile
        where = "the AOI" if aoi is not None else "the current view"
        self.show_status(f"Clustering {where} of {year} into {k} classes…", "busy")
        self._running(True)
        return lambda job: engine.clusters(year, aoi, view, k, n, self.seed, progress=job.progress)

    def _running(self, running: bool) -> None:
        self.progress.value = 0
        self.progress.layout.visibility = "visible" if running else "hidden"
        self.cancel_button.layout.display = "" if running else "none"
        self.run.disabled = running

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.value = fraction
        self.progress.description = message[:14]

    def _show(self, product: ClusterProduct | None) -> None:
        if product is None:
            self._clear()
            return
        self._running(False)
        self.value = product
        self.flow.set("clusters", product)
        self.legend.value = self._legend(product)
        self.export_button.disabled = False
        self.drive_button.layout.display = "" if hasattr(product, "export_task") else "none"
        self.download.value = ""
        self.show_status(f"{product.n_clusters} clusters of {product.year} {product.scope}.", "ok")

    def _clear(self) -> None:
        self.value = None
        self.flow.set("clusters", None)
        self.legend.value = self.download.value = ""
        self.export_button.disabled = True
        self.drive_button.layout.display = "none"

    def _failed(self, error: BaseException) -> None:
        self._running(False)
        self.show_error(error)

    def _legend(self, product: ClusterProduct) -> str:
        rows = [
            (f"Cluster {c}", f"{h:,.2f}", f"{p:.1f}")
            for c, h, p in zip(product.areas.classes, product.areas.hectares, product.areas.percent)
        ]
        rows.append(("Total", f"{product.areas.total_ha:,.2f}", "100.0"))
        swatches = [*product.colors, "transparent"]
        return table_html(("class", "ha", "%"), rows, swatches)

    def export(self, path: str | Path | None = None) -> Path | None:
        """Write the clusters shown as a GeoTIFF now; returns the path (None, with words, if it cannot)."""
        product = self.value
        if product is None:
            self.show_status("Run k-means first.", "error")
            return None
        try:
            written = product.export(self.state.engine.context, path or self._export_path(product))
        except Exception as e:  # shown in the panel: the app keeps working
            self.show_error(e)
            return None
        self.download.value = saved_file_html(written)
        self.show_status("Exported.", "ok")
        return written

    def _export_clicked(self) -> None:
        product, ctx = self.value, self.state.engine.context
        if product is None:
            return
        self.show_status("Writing the GeoTIFF…", "busy")

        def done(written: tuple[Path, str]) -> None:
            if self.value is not product:  # other clusters are shown now: this file is not theirs
                return
            self.download.value = written[1]
            self.show_status("Exported.", "ok")

        def work(job) -> tuple[Path, str]:
            written = product.export(ctx, self._export_path(product))
            return written, saved_file_html(written)

        self.runner.submit("export", work, done, self.show_error, label="export", heavy=True)

    def _export_path(self, product: ClusterProduct) -> Path:
        if self.export_dir is None:
            self.export_dir = Path(tempfile.mkdtemp(prefix="aef-export-"))
        return self.export_dir / f"aef_clusters_{product.year}_k{product.n_clusters}.tif"

    def start_export_task(self, destination: str = "drive", **options) -> None:
        """Earth Engine only: export the clusters of any size as a batch task and show its progress."""
        product = self.value
        if product is None or not hasattr(product, "export_task"):
            self.show_status("Batch exports are for clusters computed on Earth Engine.", "error")
            return
        self.show_status(f"Export to {destination} started…", "busy")
        self.progress.value = 0
        self.progress.layout.visibility = "visible"
        ctx = self.state.engine.context

        def work(job):
            task = product.export_task(ctx, destination, **options)
            return watch_task(task, job.progress, self.poll_seconds)

        def done(status) -> None:
            self.progress.layout.visibility = "hidden"
            self.show_status(f"Export {status.message}", "ok" if status.state == "SUCCEEDED" else "error")

        self.task_runner.submit("export-task", work, done, self._failed, label="export", progress=self._progress)
