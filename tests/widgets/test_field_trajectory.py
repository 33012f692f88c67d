"""The Fields tab's chosen field (``widgets/field_trajectory.py``): its outline on the map and its change over every
year in a chart, driven with the frontend's messages (map clicks, a Select's index, a chart point's click).

The chart is checked against numpy computed here from each year's per-field means of ``zonal_embeddings`` on the
whole layer (itself checked against shapely coverage in tests/engines/test_tables.py): 1 minus the cosine with the
field's first year and with the year before, over the bundled sample's eight years (2018-2025).
"""

from __future__ import annotations

import html

import geopandas as gpd
import ipyleaflet
import numpy as np
import pytest
import shapely

from aef_widgets.explorer import TAB_TITLES, Explorer
from aef_widgets.widgets import ExplorerState, JobRunner, make_map
from aef_widgets.widgets.fields_panel import FieldsPanel
from tests.widgets.frontend import click, send_custom, send_state, upload
from tests.widgets.test_fields_panel import YEAR, geojson_bytes, loaded_panel, reference_vectors, sample_fields


@pytest.fixture(scope="module")
def source():
    from aef_widgets.sources.sample import sample_source

    return sample_source()


def outline(m) -> ipyleaflet.GeoJSON | None:
    found = [layer for layer in m.layers if layer.name == "Chosen field"]
    assert len(found) <= 1
    return found[0] if found else None


def every_years_means(source, table, tmp_path) -> np.ndarray:
    """(years, fields, 64): each year's unit means of every field, by ``zonal_embeddings`` on the whole layer."""
    return np.stack([reference_vectors(source, table, y, tmp_path) for y in source.years])


def expected_changes(means: np.ndarray, position: int) -> tuple[np.ndarray, np.ndarray]:
    """1 - cos with the first year, and with the year before, of one field's unit means (every year has data)."""
    means = means[:, position]
    return 1 - means @ means[0], np.r_[np.nan, 1 - np.einsum("ij,ij->i", means[1:], means[:-1])]


def test_a_clicked_field_is_outlined_and_its_years_charted(source, tmp_path):
    table = sample_fields(source)
    panel = loaded_panel(source, tmp_path, table)
    assert outline(panel.map) is None and panel.chosen.chart is None  # nothing chosen: no outline, no empty chart
    panel.picking.value = True
    lonlat = table.to_crs("EPSG:4326").geometry
    point = lonlat.iloc[7].representative_point()
    click(panel.map, point.x, point.y)
    assert panel.state.field_chosen == 7 and panel.state.field_reference == 7
    drawn = outline(panel.map)
    assert shapely.geometry.shape(drawn.data["geometry"]).equals_exact(lonlat.iloc[7], tolerance=1e-9)
    assert drawn.style["fill"] is False
    # the outline is above the coloured fields
    names = [layer.name for layer in panel.map.layers]
    assert names.index("Chosen field") > names.index("Fields")
    chart, lines = panel.chosen.chart, panel.chosen.lines
    years = np.asarray(source.years)
    means = every_years_means(source, table, tmp_path)
    from_first, from_previous = expected_changes(means, 7)
    np.testing.assert_array_equal(lines.x, years)
    np.testing.assert_allclose(lines.y[0], from_first, atol=1e-6)
    np.testing.assert_allclose(lines.y[1], from_previous, atol=1e-6, equal_nan=True)
    np.testing.assert_array_equal(chart.axes[0].tick_values, years)  # a tick for every year, integer labels
    assert chart.axes[0].tick_format == "d"
    assert not any(mark.display_legend for mark in chart.marks)  # the legend is under the chart, not on the data
    assert panel.chosen.legend in panel.chosen.chart_box.children and chart.layout.visibility == "visible"
    assert "from the year before" in panel.chosen.legend.value and chart.title == "Change of F21"
    step = int(np.nanargmax(from_previous))
    assert f"largest change from the year before: <b>{years[step]}</b>" in panel.chosen.summary.value
    assert panel.chosen.points.selected == [list(years).index(YEAR)]  # the year the map shows

    # a row of the list chooses its field: the outline moves (the same layer), the chart follows
    send_state(panel.rows, {"index": 2})
    chosen = panel.rows.options[2][1]
    assert panel.state.field_chosen == chosen and outline(panel.map) is drawn
    assert shapely.geometry.shape(drawn.data["geometry"]).equals_exact(lonlat.iloc[chosen], tolerance=1e-9)
    np.testing.assert_allclose(lines.y[0], expected_changes(means, chosen)[0], atol=1e-6)

    # a click on the chart's point of 2019 shows that year: the fields are coloured for it
    index = list(years).index(2019)
    send_custom(panel.chosen.points, {"event": "element_click", "data": {"x": 2019.0, "y": 0.1, "index": index}})
    assert panel.state.year == 2019 and panel.product.year == 2019 and panel.chosen.points.selected == [index]

    # another layer: nothing chosen in it yet, so no outline and no chart
    upload(panel.upload, "other.geojson", geojson_bytes(table.iloc[:4]))
    assert panel.state.field_chosen == -1 and outline(panel.map) is None
    assert panel.chosen.value is None and chart.layout.visibility == "hidden"


def test_a_field_without_data_in_some_years_has_gaps_not_made_up_changes(source, tmp_path):
    grid = source.grid(None)
    west, south, east, north = grid.bounds
    # half off the sample's edge: data in every year; a field entirely off it: no data, said in words
    table = gpd.GeoDataFrame(
        {"name": ["edge", "off"]},
        geometry=[shapely.box(east - 505.3, south + 1000.2, east + 500.1, south + 2000.7),
                  shapely.box(east + 1000.5, south + 1000.2, east + 2000.1, south + 2000.7)],
        crs=grid.crs,
    )  # fmt: skip
    state = ExplorerState(source, year=YEAR)
    state.field_product = "change"
    panel = loaded_panel(source, tmp_path, table, state)
    send_state(panel.rows, {"index": [p for _, p in panel.rows.options].index(1)})
    assert panel.state.field_chosen == 1 and outline(panel.map) is not None
    assert np.isnan(panel.chosen.value["change_from_first"]).all()
    assert "off has no data in any year" in panel.chosen.summary.value and panel.chosen.points.x.size == 0


def test_the_outline_shows_only_in_the_fields_tab_and_leaves_with_the_panel(source, tmp_path):
    explorer = Explorer(source, runner=JobRunner.inline(), export_dir=tmp_path)
    try:
        explorer.tabs.selected_index = TAB_TITLES.index("Fields")
        table = sample_fields(source)
        upload(explorer.fields.upload, "fields.geojson", geojson_bytes(table))
        point = table.to_crs("EPSG:4326").geometry.iloc[4].representative_point()
        click(explorer.map, point.x, point.y)
        assert outline(explorer.map) is not None
        explorer.tabs.selected_index = TAB_TITLES.index("Similarity")
        assert outline(explorer.map) is None and explorer.state.field_chosen == 4  # off the map, still chosen
        explorer.tabs.selected_index = TAB_TITLES.index("Fields")
        assert outline(explorer.map) is not None
    finally:
        explorer.close()

    m = make_map(source)
    before = list(m.layers)
    panel = FieldsPanel(ExplorerState(source, year=YEAR), map=m, runner=JobRunner.inline(), export_dir=tmp_path)
    upload(panel.upload, "fields.geojson", geojson_bytes(table))
    panel.picking.value = True
    click(m, point.x, point.y)
    drawn = outline(m)
    assert drawn is not None and panel.state.field_chosen == 4
    panel.close()
    assert list(m.layers) == before and drawn.comm is None  # off the map, and closed
    panel.state.field_chosen = 3  # what a late observer could do: the closed panel draws nothing
    assert list(m.layers) == before


def test_while_a_new_layer_is_measured_the_old_layers_list_and_table_are_gone(source, tmp_path):
    """A row of the list is a position in the layer it was listed for: a row of the layer loaded before, chosen
    while the new one's fields are measured, chose the new layer's field at that position (another field, under
    another name), and the old table was still saved."""
    from tests.widgets.frontend import ManualExecutor

    executor = ManualExecutor()
    state = ExplorerState(source, year=YEAR)
    panel = FieldsPanel(state, map=make_map(source), runner=JobRunner(executor, heavy_executor=executor),
                        export_dir=tmp_path)  # fmt: skip
    first = sample_fields(source)
    upload(panel.upload, "first.geojson", geojson_bytes(first))
    executor.run_all()
    assert len(panel.rows.options) == 12 and panel.product is not None
    second = first.iloc[::-1].copy()
    second["name"] = ["new " + n for n in second["name"]]
    upload(panel.upload, "second.geojson", geojson_bytes(second))
    executor.run(0)  # the new layer is read; its fields are not measured yet
    assert state.field_layer.name == "second.geojson" and executor.pending
    assert panel.rows.options == () and panel.product is None and panel.export("parquet") is None
    assert panel.save_parquet.disabled and not any(layer.name == "Fields" for layer in panel.map.layers)
    executor.run_all()
    send_state(panel.rows, {"index": 0})
    label, position = panel.rows.options[0]
    executor.run_all()
    assert state.field_chosen == position and panel.chosen.chart.title == f"Change of {label.split(':')[0]}"


def test_fields_are_named_by_their_first_text_column_as_read_from_a_file(source, tmp_path):
    """A layer with no name column is named by its first text column: read from a file by pandas 3, text columns
    are of the ``str`` dtype, not ``object``, and every field was named by its position instead."""
    table = sample_fields(source).rename(columns={"name": "parcel"})[["crop", "parcel", "geometry"]]
    panel = FieldsPanel(ExplorerState(source, year=YEAR), map=make_map(source), runner=JobRunner.inline())
    upload(panel.upload, "parcels.geojson", table.to_crs("EPSG:4326").to_json(drop_id=True).encode())  # no "id"
    assert sorted(label.split(":")[0] for label, _ in panel.rows.options) == sorted(table["parcel"])
    send_state(panel.rows, {"index": 0})
    label, position = panel.rows.options[0]
    name = table["parcel"].iloc[position]
    assert label.startswith(f"{name}: ") and panel.chosen.chart.title == f"Change of {name}"


def test_a_layer_of_one_field_is_counted_in_words(source, tmp_path):
    """The notice read "1 fields from …"."""
    panel = loaded_panel(source, tmp_path, sample_fields(source).iloc[:1])
    assert html.unescape(panel.notice.value) == "1 field from fields.geojson."
    panel = loaded_panel(source, tmp_path, sample_fields(source).iloc[:2])
    assert html.unescape(panel.notice.value) == "2 fields from fields.geojson."
