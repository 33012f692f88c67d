"""SearchWider: "Search wider" in the similarity panel, the best matches of the probe's references over a region far
larger than the view.

The region is the AOI, the view N times wider and taller, or a typed box; its size and an estimate of what the
search reads and takes show before it starts (``engines.region_plan``). The search is ``find_similar`` run by the
job runner on the engine the explorer has (in this process, on its executor, or on Earth Engine), with a progress
bar and Cancel (the work stops at its next chunk). The matches show as one layer of markers and as a ranked list;
choosing a row flies the map there, and adds it as a reference like it or not like it (the confirm/reject loop),
after which the next search ranks with the new references. The matches save as GeoJSON or GeoParquet, to a folder
of the panel's (a temporary one unless given), with a download link: nowhere to type a server path.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import ipyleaflet
from ipywidgets import HTML, Accordion, Button, Checkbox, Dropdown, FloatProgress, HBox, Layout, Select, Text, VBox

from ..core.aoi import AOI
from ..core.errors import AOIError, UsageError
from ..engines.region_plan import SearchPlan, chosen_region, on_earth_engine, plan_search, run_search
from ..products.marks import SEARCH_MATCHES
from ..rendering.colors import MATCH_COLOR
from .base import VIEW_DEBOUNCE_S, Panel, error_message
from .exports import export_folder, save_table, saved_file_html
from .lifecycle import shared_widget

REGIONS = [("The AOI", "aoi"), ("The view, N times wider", "view"), ("A box", "box")]
FACTORS = [(f"× {n}", n) for n in (2, 4, 8, 16, 32)]
TOPS = [10, 25, 50, 100, 250, 1000]
SPACINGS = [("Any", 0), ("50 m", 50), ("100 m", 100), ("200 m", 200), ("500 m", 500), ("1 km", 1000)]
#: Rows listed at once (the map shows every match).
MAX_ROWS = 500
#: Zoom a chosen match opens at: its 10 m pixel is a few screen pixels across.
FLY_ZOOM = 17
_STYLE = {"radius": 5, "color": "#ffffff", "weight": 1, "fillColor": MATCH_COLOR, "fillOpacity": 0.9}
_REFS = ["probe_points", "negative_points"]
_WIDE = shared_widget(Layout(width="auto"))  # never changed: the controls hidden by turns have their own


class SearchWider(Panel):
    """A region search of the probe's references; ``value`` is the matches shown (a GeoDataFrame, or None).

    ``add_reference(lon, lat, negative)`` is how a chosen match becomes a reference (the similarity probe's).
    """

    def __init__(self, state=None, *, add_reference: Callable[..., None] | None = None,
                 export_dir: str | Path | None = None, **kwargs) -> None:  # fmt: skip
        super().__init__(state, **kwargs)
        self._add, self._folder = add_reference, export_folder(export_dir)
        self.region = Dropdown(options=REGIONS, value="view", description="Region", layout=_WIDE)
        self.factor = Dropdown(options=FACTORS, value=4, description="N", layout=Layout(width="auto"))
        self.box = Text(placeholder="west, south, east, north (degrees)", continuous_update=False,
                        layout=Layout(width="auto"))  # fmt: skip
        self.top = Dropdown(options=TOPS, value=100, description="Matches", layout=_WIDE)
        self.spacing = Dropdown(options=SPACINGS, value=0, description="Apart", layout=_WIDE)
        self.exact = Checkbox(value=False, description="Read every 10 m pixel (exact, slower)", indent=False)
        self.plan = HTML()
        self.plan.add_class("aef-search-plan")
        self.start = Button(description="Search", button_style="primary", layout=Layout(width="7em"))
        self.stop = Button(description="Cancel", disabled=True, layout=Layout(width="7em"))
        self.progress = FloatProgress(min=0.0, max=1.0, layout=Layout(width="auto", visibility="hidden"))
        self.progress_text, self.notice, self.download = HTML(), HTML(), HTML()
        self.rows = Select(options=[], rows=8, layout=_WIDE)
        self.like = Button(description="Like this", disabled=True, tooltip="Add the chosen match as a reference")
        self.unlike = Button(description="Not like that", disabled=True, tooltip="Add it as a negative reference")
        self.save_geojson = Button(description="Save GeoJSON", disabled=True, layout=_WIDE)
        self.save_parquet = Button(description="Save GeoParquet", disabled=True, layout=_WIDE)
        self.slot = self.layer_slot("Search matches", SEARCH_MATCHES.name)
        self.value, self._refused = None, False  # _refused: the plan shown refuses the region; Search stays off
        self._searched: dict = {}  # what the matches shown were found for
        self._added: dict[int, str] = {}  # row -> "like" / "not like", added as references
        self._channel, self._plan_channel = f"search-wider-{id(self)}", f"search-plan-{id(self)}"
        self._detach.append(lambda: (self.runner.cancel(self._channel), self.runner.cancel(self._plan_channel)))
        for control in (self.region, self.factor, self.box, self.top, self.exact):
            control.observe(lambda _: self.replan(), names="value")
        self.start.on_click(lambda _: self.search())
        self.stop.on_click(lambda _: self.cancel())
        self.rows.observe(self._row_chosen, names="value")
        self.like.on_click(lambda _: self._add_chosen(False))
        self.unlike.on_click(lambda _: self._add_chosen(True))
        self.save_geojson.on_click(lambda _: self.export("geojson"))
        self.save_parquet.on_click(lambda _: self.export("parquet"))
        self.listen(self.state, lambda c: self.replan(VIEW_DEBOUNCE_S) if self.region.value == c["name"] else None,
                    ["view", "aoi"])  # fmt: skip
        self.listen(self.state, lambda _: self._data_changed(), ["source", "year"])
        # the references are watched only while matches are shown: a similarity click runs no code of this panel
        self._watching = False
        self._detach.append(lambda: self._watching and self.state.unobserve(self._references_changed, names=_REFS))
        body = VBox([
            HTML("Find the best matches of the references over a region larger than the view."),
            self.region, self.factor, self.box, HBox([self.top, self.spacing]), self.exact, self.plan,
            HBox([self.start, self.stop]), self.progress, self.progress_text, self.notice, self.rows,
            HBox([self.like, self.unlike]), HBox([self.save_geojson, self.save_parquet]), self.download, self.status,
        ])  # fmt: skip
        self.fold = Accordion(children=[body], titles=("Search wider",), selected_index=None)
        # nothing is planned until the section is opened: a panel nobody unfolds costs nothing
        self.fold.observe(lambda _: self.replan(), names="selected_index")
        self.children = [self.fold]
        self.add_class("aef-search-wider")
        self._show_region_controls()

    def chosen_region(self) -> AOI:
        """The region chosen, from the current AOI, view or box; ``AOIError``/``UsageError`` in words if none."""
        view = self.current_view()
        return chosen_region(self.region.value, self.state.aoi, view and view.bounds, self.factor.value, self.box.value)

    def replan(self, delay: float | None = None) -> None:
        """Show the chosen region's size and estimate (computed in the background), or why it cannot be searched."""
        self._show_region_controls()
        self.value is None or self._references_changed()  # are the matches shown of the region chosen now?
        if self.fold.selected_index is None:
            return
        try:
            region = self.chosen_region()
        except (AOIError, UsageError) as e:
            self.runner.cancel(self._plan_channel)
            self._set_plan(str(e), refused=True)
            return
        engine, exact, top = self.state.engine, self.exact.value, self.top.value
        self.plan.value = "Measuring the region…"
        self.runner.submit(self._plan_channel, lambda job: plan_search(engine, region, exact=exact, top=top),
                           self._planned, lambda e: self._set_plan(error_message(e), refused=True), delay,
                           label="region size")  # fmt: skip

    def search(self) -> None:
        """Start searching the chosen region (what the Search button does); earlier matches are taken away."""
        state = self.state
        try:
            region = self.chosen_region()
            if not state.probe_points:
                raise UsageError("click the map for a reference like what you look for first")
        except (AOIError, UsageError) as e:
            self.show_error(e)
            return
        self._clear()
        engine, year = state.engine, state.year
        positives, negatives = list(state.probe_points), list(state.negative_points)
        top, spacing, exact = self.top.value, self.spacing.value, self.exact.value
        searched = {"source": state.source, "year": year, "probe_points": positives, "negative_points": negatives,
                    "region": region, "kind": self.region.value}  # fmt: skip
        self._busy(True)
        self.show_status("Searching…", "busy")

        def work(job):
            frame = run_search(engine, region, year, positives, negatives, top=top, min_distance_m=spacing,
                               exact=exact, progress=job.progress)  # fmt: skip
            return frame, _points(frame)

        self.runner.submit(self._channel, work, lambda found: self._show(searched, *found), self._failed,
                           label="region search", progress=self._progressed, heavy=True)  # fmt: skip

    def cancel(self) -> None:
        """Stop the search (it stops at its next chunk; what it found is never shown)."""
        self.runner.cancel(self._channel)
        self._clear()
        self._busy(False)
        self.show_status("Search cancelled.")

    def export(self, kind: str) -> Path | None:
        """Save the matches shown as GeoJSON (degrees, RFC 7946) or GeoParquet; a download link follows."""
        frame = self.value
        if frame is None:
            return None
        frame = frame.copy()
        frame.attrs = {}  # the search's report is words for the panel, not a column
        try:
            path = save_table(frame, self._folder, f"matches_{self._searched['year']}", kind, "matches")
        except UsageError as e:
            self.show_error(e)
            return None
        self.download.value = saved_file_html(path)
        return path

    def _planned(self, plan: SearchPlan) -> None:
        self._set_plan(str(plan), refused=bool(plan.refusal))

    def _set_plan(self, words: str, refused: bool) -> None:
        color, self._refused = ("#b00020" if refused else "#555"), refused
        self.plan.value = f'<span style="color:{color}">{html.escape(words)}</span>'
        self.start.disabled = refused or not self.stop.disabled

    def _show_region_controls(self) -> None:
        self.factor.layout.display = "" if self.region.value == "view" else "none"
        self.box.layout.display = "" if self.region.value == "box" else "none"
        # Earth Engine scores every pixel server-side: "exact" would change nothing there, so it is not offered
        self.exact.layout.display = "none" if on_earth_engine(self.state.engine.source) else ""

    def _progressed(self, fraction: float, message: str) -> None:
        self.progress.value = max(0.0, min(1.0, fraction))
        self.progress_text.value = html.escape(message)

    def _busy(self, running: bool) -> None:
        self.start.disabled, self.stop.disabled = running or self._refused, not running
        self.progress.layout.visibility = "visible" if running else "hidden"
        self.progress.value, self.progress_text.value = 0.0, ""

    def _show(self, searched: dict, frame, points: dict) -> None:
        self._busy(False)
        self._searched, self.value = searched, frame
        if self.slot is not None:
            layer = ipyleaflet.GeoJSON(data=points, point_style=_STYLE, hover_style={"fillOpacity": 1.0})
            layer.on_click(lambda feature=None, **_: self._choose(feature["properties"]["rank"] - 1))
            self.slot.show(layer)
        self._list()
        self.save_geojson.disabled = self.save_parquet.disabled = False
        if not self._watching:
            self.state.observe(self._references_changed, names=_REFS)
            self._watching = True
        self._references_changed()
        found = f"{len(frame):,} match{'es' if len(frame) != 1 else ''}"
        found += f" (the first {MAX_ROWS:,} are listed; every one is on the map)" * (len(frame) > MAX_ROWS)
        self.show_status(f"{found}. {frame.attrs['search']}", "ok")

    def _failed(self, error: BaseException) -> None:
        self._busy(False)
        self.show_error(error)

    def _clear(self) -> None:
        """Take the matches away (map, list, exports): nothing of an older search stays."""
        if self.slot is not None:
            self.slot.remove()
        if self._watching:
            self.state.unobserve(self._references_changed, names=_REFS)
            self._watching = False
        self.value, self._searched, self._added = None, {}, {}
        self.rows.options = []
        self.like.disabled = self.unlike.disabled = self.save_geojson.disabled = self.save_parquet.disabled = True
        self.notice.value = self.download.value = ""

    def _data_changed(self) -> None:
        """Another source or year: matches found in other data are taken away, a running search is stopped."""
        if not self.stop.disabled:
            self.runner.cancel(self._channel)
            self._busy(False)
        self._clear()
        self.replan()

    def _list(self) -> None:
        frame = self.value
        labels = [
            f"{rank}. score {score:.3f} at {p.x:.5f}, {p.y:.5f}{' · ' + self._added[i] if i in self._added else ''}"
            for i, (rank, score, p) in enumerate(zip(frame["rank"][:MAX_ROWS], frame["score"], frame.geometry))
        ]  # fmt: skip
        chosen = self.rows.value
        self.rows.options = [(label, i) for i, label in enumerate(labels)]
        self.rows.value = chosen if chosen is not None and chosen < len(labels) else None

    def _choose(self, row: int) -> None:
        if 0 <= row < len(self.rows.options):
            self.rows.value = row
        elif self.map is not None and self.value is not None and 0 <= row < len(self.value):  # beyond the list
            self.rows.value, point = None, self.value.geometry.iloc[row]  # Like this: for a listed row only
            self.map.center, self.map.zoom = (point.y, point.x), max(FLY_ZOOM, self.map.zoom)

    def _row_chosen(self, change) -> None:
        row = change["new"]
        self.like.disabled = self.unlike.disabled = row is None or self._add is None
        if row is not None and self.map is not None:
            point = self.value.geometry.iloc[row]
            self.map.center, self.map.zoom = (point.y, point.x), max(FLY_ZOOM, self.map.zoom)

    def _add_chosen(self, negative: bool) -> None:
        row = self.rows.value
        if row is None or self._add is None or self.value is None:
            return
        point = self.value.geometry.iloc[row]
        self._add(point.x, point.y, negative)
        self._added[row] = "not like" if negative else "like"
        self._list()

    def _references_changed(self, _change=None) -> None:
        same = all(list(getattr(self.state, k)) == self._searched[k] for k in _REFS)
        notes = [] if same else ["The references changed since this search: search again to rank with them."]
        kind, searched = self.region.value, self._searched
        try:  # another AOI or box than searched (the view N times wider moves with the map, by design)
            moved = kind != searched["kind"] or (kind != "view" and self.chosen_region() != searched["region"])
        except (AOIError, UsageError):
            moved = True
        notes += ["The region changed since this search: these matches are of the region searched then."] * moved
        self.notice.value = " ".join(notes)


def _points(frame) -> dict:
    """The matches as GeoJSON points with their rank and score, for the map."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.x, p.y]},
         "properties": {"rank": int(rank), "score": float(score)}}
        for rank, score, p in zip(frame["rank"], frame["score"], frame.geometry)
    ]}  # fmt: skip
