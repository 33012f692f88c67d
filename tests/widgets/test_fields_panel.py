"""The Fields tab (``products/fields.py``, ``widgets/fields_panel.py``): a polygon layer uploaded or opened by path,
each field coloured by a per-field product, a sorted list that flies the map, and exports.

Driven with the frontend's messages (an upload's state update with its binary buffer, map clicks, a Select's index).
Per-field vectors are checked against ``zonal_embeddings`` called directly on the same file (itself checked against
shapely coverage and plain rasterio reads in tests/engines/test_tables.py); similarity, change and k-means against
numpy computed here from those vectors. The change test uses the real Wisconsin raster with a planted change block
(``two_year_source``, tests/widgets/conftest.py).
"""

from __future__ import annotations

import io
import tempfile
import zipfile

import geopandas as gpd
import numpy as np
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pyproj import Transformer

from aef_widgets.analysis.classify import EmbeddingClassifier
from aef_widgets.core.bands import BAND_NAMES
from aef_widgets.engines.tables import zonal_embeddings
from aef_widgets.explorer import TAB_TITLES, Explorer
from aef_widgets.products.fields import PRODUCT
from aef_widgets.rendering.colors import categorical_colors, hex_to_rgba
from aef_widgets.sources.sample import sample_source
from aef_widgets.widgets import ExplorerState, JobRunner, make_map
from aef_widgets.widgets.fields_panel import FieldsPanel
from aef_widgets.widgets.flow import Flow
from aef_widgets.widgets.map_view import view_of
from aef_widgets.widgets.ui_loop import UILoop
from tests.widgets.frontend import ManualExecutor, click, rgba, send_state, upload
from tests.widgets.test_panel_close import live_widgets

YEAR = 2024


@pytest.fixture(scope="module")
def source():
    return sample_source()


def sample_fields(source) -> gpd.GeoDataFrame:
    """Twelve fields over the sample (1024 x 1024 px of 10 m in UTM 16N), edges off the pixel grid, one with a hole."""
    x0, y0 = source.grid(None).transform.c, source.grid(None).transform.f
    shapes, names = [], []
    for i in range(4):
        for j in range(3):
            west, north = x0 + 403.7 + 2400 * i, y0 - 517.3 - 3100 * j
            box = shapely.box(west, north - 1210.4, west + 905.2, north)
            if i == j == 1:
                box = box.difference(shapely.box(west + 300.5, north - 800.5, west + 600.5, north - 300.5))
            shapes.append(box)
            names.append(f"F{i}{j}")
    return gpd.GeoDataFrame({"name": names, "crop": np.arange(12)}, geometry=shapes, crs="EPSG:32616")


def geojson_bytes(table: gpd.GeoDataFrame) -> bytes:
    return table.to_crs("EPSG:4326").to_json().encode()


def loaded_panel(source, tmp_path, table=None, state=None) -> FieldsPanel:
    state = state or ExplorerState(source, year=YEAR)
    panel = FieldsPanel(state, map=make_map(source), runner=JobRunner.inline(), export_dir=tmp_path)
    upload(panel.upload, "fields.geojson", geojson_bytes(table if table is not None else sample_fields(source)))
    return panel


def pixel_of(layer, image: np.ndarray, lon: float, lat: float) -> tuple[int, int]:
    """(row, col) of a lon/lat in an image overlay, which Leaflet stretches linearly in Web Mercator."""
    to_mercator = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    (south, west), (north, east) = layer.bounds
    (x0, x1), (y0, y1) = to_mercator.transform([west, east], [south, north])
    x, y = to_mercator.transform(lon, lat)
    rows, cols = image.shape[:2]
    return int((y1 - y) / (y1 - y0) * rows), int((x - x0) / (x1 - x0) * cols)


def reference_vectors(source, table, year, tmp_path) -> np.ndarray:
    path = tmp_path / "reference.geojson"
    path.write_bytes(geojson_bytes(table))
    return zonal_embeddings(source, str(path), year)[list(BAND_NAMES)].to_numpy(np.float64)


def test_uploaded_fields_are_clustered_from_their_zonal_means(source, tmp_path):
    table = sample_fields(source)
    panel = loaded_panel(source, tmp_path, table)
    assert "12 fields from fields.geojson" in panel.notice.value
    values = panel.product
    assert values is not None and values.product == "clusters" and values.year == YEAR
    v = reference_vectors(source, table, YEAR, tmp_path)
    np.testing.assert_allclose(values.table[list(BAND_NAMES)].to_numpy(np.float64), v, atol=1e-6)
    labels = values.values
    assert set(labels) == set(range(5))  # the state's five clusters, each given to a field
    # k-means' fixed point: every field is nearest the mean of its own cluster's fields
    centres = np.stack([v[labels == c].mean(axis=0) for c in range(5)])
    nearest = ((v[:, None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
    assert np.array_equal(nearest, labels)
    # the map shows each field in its cluster's colour, and nothing between the fields
    (layer,) = [layer for layer in panel.map.layers if layer.name == "Fields"]
    image, colors = rgba(layer.url), categorical_colors(20)
    for position, point in enumerate(table.to_crs("EPSG:4326").geometry.representative_point()):
        assert tuple(image[pixel_of(layer, image, point.x, point.y)]) == hex_to_rgba(colors[labels[position]])
    gap = table.to_crs("EPSG:4326").geometry.iloc[0].bounds  # just east of the first field: no field there
    assert image[pixel_of(layer, image, gap[2] + 0.0005, (gap[1] + gap[3]) / 2)][3] == 0
    assert panel.flow.keys[PRODUCT.name]["field_clusters"] == 5
    panel.clusters.value = 3  # as the slider sends it
    assert set(panel.product.values) == {0, 1, 2}


def test_a_clicked_field_is_like_itself_and_the_others_by_their_cosine(source, tmp_path):
    table = sample_fields(source)
    panel = loaded_panel(source, tmp_path, table)
    panel.picking.value = True
    lonlat = table.to_crs("EPSG:4326").geometry.iloc[7].representative_point()
    click(panel.map, lonlat.x, lonlat.y)
    values = panel.product
    assert values.product == "similarity" and panel.state.field_reference == 7
    v = reference_vectors(source, table, YEAR, tmp_path)
    assert values.values[7] == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(values.values, v @ v[7], atol=1e-6)
    # the list, sorted high first, starts with the clicked field; choosing a row flies the map to it
    assert panel.rows.options[0] == (f"F21: similarity {values.values[7]:.3f}", 7)
    order = [position for _, position in panel.rows.options]
    assert order == list(np.argsort(-values.values, kind="stable"))
    send_state(panel.rows, {"index": 3})
    chosen = table.to_crs("EPSG:4326").geometry.iloc[order[3]]
    lat, lon = panel.map.center
    assert chosen.contains(shapely.Point(lon, lat)) and panel.map.zoom >= 14
    click(panel.map, lonlat.x - 5, lonlat.y)  # far from every field
    assert "No field there" in panel.notice.value and panel.state.field_reference == 7


def test_change_per_field_is_one_minus_the_cosine_of_the_two_years(two_year_source, tmp_path):
    grid = two_year_source.grid(None)
    x0, y0 = grid.transform.c, grid.transform.f
    # 10 m pixels; the planted change covers rows 20..50, cols 30..70 (tests/widgets/conftest.py)
    changed = shapely.box(x0 + 10 * 33.4, y0 - 10 * 46.6, x0 + 10 * 66.2, y0 - 10 * 23.5)
    unchanged = shapely.box(x0 + 10 * 5.5, y0 - 10 * 90.2, x0 + 10 * 25.1, y0 - 10 * 60.3)
    table = gpd.GeoDataFrame({"name": ["changed", "unchanged"]}, geometry=[changed, unchanged], crs=grid.crs)
    state = ExplorerState(two_year_source, year=2024)
    state.change_years = (2023, 2024)
    state.field_product = "change"
    panel = loaded_panel(two_year_source, tmp_path, table, state)
    before, after = (reference_vectors(two_year_source, table, y, tmp_path) for y in (2023, 2024))
    expected = 1 - np.einsum("ij,ij->i", before, after)
    np.testing.assert_allclose(panel.product.values, expected, atol=1e-6)
    assert panel.product.values[1] == pytest.approx(0.0, abs=1e-6) and panel.product.values[0] > 0.05


def test_exports_read_back_equal_the_table(source, tmp_path):
    folder = tmp_path / "exports" / "fields"  # not made yet: the first save makes it (GeoJSON's writer would not)
    panel = loaded_panel(source, folder)
    frame = panel.product.frame()
    assert "cluster" in frame and "A63" in frame and "name" in frame
    panel.save_parquet.click()
    assert "Saved fields_clusters_2024.parquet" in panel.download.value
    assert_geodataframe_equal(gpd.read_parquet(folder / "fields_clusters_2024.parquet"), frame)
    panel.save_geojson.click()
    back = gpd.read_file(folder / "fields_clusters_2024.geojson")
    assert list(back["name"]) == list(frame["name"]) and np.array_equal(back["cluster"], frame["cluster"])
    np.testing.assert_allclose(back[list(BAND_NAMES)].to_numpy(), frame[list(BAND_NAMES)].to_numpy(), atol=1e-9)
    assert back.geometry.geom_equals_exact(frame.to_crs("EPSG:4326").geometry, tolerance=1e-9).all()


def zipped_shapefile(table: gpd.GeoDataFrame, tmp_path, with_prj: bool) -> bytes:
    folder = tmp_path / "shp"
    folder.mkdir()
    table.to_file(folder / "fields.shp")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for path in folder.iterdir():
            if with_prj or path.suffix != ".prj":
                z.write(path, path.name)
    return buffer.getvalue()


def test_a_zipped_shapefile_and_a_path_load(source, tmp_path):
    table = sample_fields(source)
    panel = FieldsPanel(ExplorerState(source, year=YEAR), runner=JobRunner.inline(), export_dir=tmp_path, paths=True)
    assert panel.path in panel.children[1].children  # offered only when asked for
    upload(panel.upload, "fields.zip", zipped_shapefile(table, tmp_path, with_prj=True))
    assert "12 fields" in panel.notice.value and len(panel.product.values) == 12
    table.to_parquet(tmp_path / "fields.parquet")
    panel.path.value = str(tmp_path / "fields.parquet")
    panel.open_path.click()
    assert "12 fields" in panel.notice.value and panel.state.field_layer.name.endswith("fields.parquet")


def test_an_upload_superseded_before_its_read_leaves_no_copy(source, tmp_path, monkeypatch):
    """An upload is copied into a folder of its own for GDAL to read, removed by the read. A read superseded before
    it ran (a second upload at once, the panel closed) never ran to remove it: copies of a user's fields piled up in
    the temporary folder."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    pool = ManualExecutor()  # the reads run when the test says
    runner = JobRunner(pool, loop=UILoop.immediate())
    panel = FieldsPanel(ExplorerState(source, year=YEAR), runner=runner, export_dir=tmp_path)
    table = sample_fields(source)
    upload(panel.upload, "first.geojson", geojson_bytes(table.iloc[:3]))
    upload(panel.upload, "second.geojson", geojson_bytes(table))
    assert len(list(temporary.glob("aef-fields-*"))) == 1  # the first's copy went as the second came
    pool.run_all()
    assert "12 fields from second.geojson" in panel.notice.value
    assert list(temporary.glob("aef-fields-*")) == []  # the second's went with its read
    upload(panel.upload, "third.geojson", geojson_bytes(table))
    panel.close()  # before its read
    assert list(temporary.glob("aef-fields-*")) == []


def test_bad_files_are_refused_in_words(source, tmp_path):
    panel = FieldsPanel(ExplorerState(source, year=YEAR), runner=JobRunner.inline(), export_dir=tmp_path, paths=True)
    table = sample_fields(source)
    cases = [
        ("notes.txt", b"hello", "is not a vector file this tab reads"),
        ("fields.geojson", b"{not json", "not vector data GDAL can read"),
        ("points.geojson", geojson_bytes(table.set_geometry(table.centroid)), "are not polygons (Point)"),
        ("fields.zip", zipped_shapefile(table, tmp_path, with_prj=False), "have no CRS"),
    ]
    for name, content, words in cases:
        upload(panel.upload, name, content)
        assert words in panel.notice.value, name
        assert "Traceback" not in panel.notice.value and panel.state.field_layer is None
    panel.path.value = str(tmp_path / "missing.gpkg")
    panel.open_path.click()
    assert "no such file" in panel.notice.value and panel.product is None


def test_the_explorer_has_a_fields_tab_that_picks_only_when_open(source, tmp_path):
    explorer = Explorer(source, runner=JobRunner.inline(), export_dir=tmp_path)
    try:
        assert explorer.tabs.get_title(TAB_TITLES.index("Fields")) == "Fields" and explorer.fields in explorer.panels
        table = sample_fields(source)
        upload(explorer.fields.upload, "fields.geojson", geojson_bytes(table))
        point = table.to_crs("EPSG:4326").geometry.iloc[4].representative_point()
        click(explorer.map, point.x, point.y)
        assert explorer.state.field_reference == -1  # another tab is open: the click is not the Fields tab's
        explorer.tabs.selected_index = TAB_TITLES.index("Fields")
        assert explorer.fields.picking.value and not explorer.similarity.picking.value
        click(explorer.map, point.x, point.y)
        assert explorer.state.field_reference == 4 and explorer.state.probe_points == []
    finally:
        explorer.close()


def test_a_closed_fields_panel_is_detached_and_no_longer_reacts(source, tmp_path):
    state, m = ExplorerState(source, year=YEAR), make_map(source)
    flow = Flow.of(state)
    flow.track(m, view_of)

    def attached() -> tuple:
        observers = sum(len(h) for by_type in state._trait_notifiers.values() for h in by_type.values())
        subscriptions = {node: len(updates) for node, updates in flow._updates.items() if updates}
        return subscriptions, observers, len(m._interaction_callbacks.callbacks), [x.name for x in m.layers]

    before, widgets = attached(), live_widgets()
    panel = FieldsPanel(state, map=m, runner=JobRunner.inline(), export_dir=tmp_path)
    upload(panel.upload, "fields.geojson", geojson_bytes(sample_fields(source)))
    panel.picking.value = True
    assert attached() != before
    panel.close()
    assert attached() == before and live_widgets() == widgets  # its layer left the map, its widgets are closed
    point = state.field_layer.table.geometry.iloc[2].representative_point()
    click(m, point.x, point.y)
    assert state.field_reference == -1


def test_classes_are_learnt_from_the_labelled_fields_and_given_to_all(source, tmp_path):
    table = sample_fields(source)
    # fields of the first three columns labelled by their row of the layout, the last column's left unlabelled
    table["label"] = [None if i == 3 else "abc"[j] for i in range(4) for j in range(3)]
    state = ExplorerState(source, year=YEAR)
    state.field_product = "classes"
    panel = loaded_panel(source, tmp_path, table, state)
    assert "choose the column" in panel.status.value and panel.product is None  # no label column chosen yet
    assert ("label", "label") in panel.label_column.options
    panel.label_column.value = "label"  # as the dropdown sends it
    values = panel.product
    v = reference_vectors(source, table, YEAR, tmp_path)
    train = table["label"].notna().to_numpy()
    model = EmbeddingClassifier("auto").fit(v[train], table["label"][train].to_numpy(object))
    assert list(values.frame()["class"]) == list(model.predict(v))
    assert values.classes == ("a", "b", "c") and f"{model.method_} on 9 labelled fields" in values.note
    assert "a" in panel.legend.value and panel.status.value == ""


def test_the_largest_yearly_change_of_each_field_and_its_year(source, tmp_path):
    table = sample_fields(source)
    state = ExplorerState(source, year=YEAR)
    state.field_product = "steps"
    panel = loaded_panel(source, tmp_path, table, state)
    path = tmp_path / "reference.geojson"
    path.write_bytes(geojson_bytes(table))
    every = zonal_embeddings(source, str(path), None)  # one row per field and year, the years in order
    years = sorted(set(every["year"]))
    v = every[list(BAND_NAMES)].to_numpy(np.float64).reshape(len(table), len(years), 64)
    steps = 1 - np.einsum("fyb,fyb->fy", v[:, :-1], v[:, 1:])
    frame = panel.product.frame()
    np.testing.assert_allclose(frame["largest_change"], steps.max(axis=1), atol=1e-6)
    assert list(frame["changed_in"]) == [years[1:][i] for i in steps.argmax(axis=1)]
    assert "largest yearly change" in panel.rows.options[0][0]
