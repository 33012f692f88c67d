"""ClusterPanel: k classes on the map, areas that add up, an export that GIS software reads right."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from aef_widgets.core.aoi import AOI
from aef_widgets.widgets import AOIDrawer, ClusterPanel, ExplorerState
from tests.widgets.frontend import draw, rectangle, rgba


def inner_box(source, margin: float = 0.0015) -> tuple[float, float, float, float]:
    west, south, east, north = source.footprint.lonlat_bounds()
    return (west + margin, south + margin, east - 2 * margin, north - margin)


def test_cluster_layer_has_k_crisp_classes_and_a_legend(state, fresh_map, runner):
    panel = ClusterPanel(state, map=fresh_map, runner=runner)
    panel.k.value = 4
    panel.run.click()
    product = panel.value
    assert product.n_clusters == 4
    layer = next(x for x in fresh_map.layers if x.name == "Clusters")
    assert layer.class_name == "aef-crisp"
    pixels = rgba(layer.url).reshape(-1, 4)
    colours = {tuple(p[:3]) for p in pixels if p[3] == 255}
    expected = {tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in product.colors}
    assert colours == expected and len(colours) == 4
    assert panel.legend.value.count("Cluster ") == 4 and "Total" in panel.legend.value


def test_areas_sum_to_the_aois_valid_area(int8_with_hole, fresh_map, runner):
    from aef_widgets.sources import open_source

    path, hole = int8_with_hole
    source = open_source(path)
    state = ExplorerState(source)
    drawer = AOIDrawer(state, map=fresh_map, runner=runner)
    panel = ClusterPanel(state, map=fresh_map, runner=runner)
    draw(drawer.draw_control, rectangle(*inner_box(source)))
    panel.run.click()
    field = source.read(state.aoi, state.year)
    valid_ha = field.valid_count * 0.01  # 10 m pixels
    assert panel.value.areas.total_ha == pytest.approx(valid_ha)
    assert sum(panel.value.areas.percent) == pytest.approx(100)
    assert "in the AOI at 10 m" in panel.status.value


def test_export_reads_back_on_the_source_grid(int8_with_hole, tmp_path, fresh_map, runner):
    from aef_widgets.sources import open_source

    path, hole = int8_with_hole
    source = open_source(path)
    state = ExplorerState(source, aoi=AOI.from_bounds(*inner_box(source)))
    panel = ClusterPanel(state, map=fresh_map, runner=runner, export_dir=tmp_path)
    panel.run.click()
    out = panel.export()
    assert out.parent == tmp_path and "Download aef_clusters_2024_k5.tif" in panel.download.value
    with rasterio.open(out) as ds, rasterio.open(path) as src:
        assert ds.crs == src.crs and ds.dtypes[0] == "uint8" and ds.nodata == 255
        # the export's pixels sit on the source's 10 m lattice
        col, row = ~src.transform @ (ds.transform.c, ds.transform.f)
        assert ds.res == src.res and col == pytest.approx(round(col)) and row == pytest.approx(round(row))
        labels = ds.read(1)
        window = rasterio.windows.Window(round(col), round(row), ds.width, ds.height)
        holes = hole[window.toslices()]
        assert (labels[holes] == 255).all()
        np.testing.assert_array_equal(labels, np.where(panel.value.labels < 0, 255, panel.value.labels))
        assert set(np.unique(labels)) <= {0, 1, 2, 3, 4, 255}
        assert ds.colormap(1)[0][:3] == tuple(int(panel.value.colors[0][i : i + 2], 16) for i in (1, 3, 5))


def test_export_before_running_says_so(state, runner):
    panel = ClusterPanel(state, runner=runner)
    assert panel.export() is None
    assert "Run k-means first" in panel.status.value


def test_a_changed_aoi_clears_stale_clusters(state, fresh_map, runner, real_source):
    panel = ClusterPanel(state, map=fresh_map, runner=runner)
    panel.run.click()
    state.aoi = AOI.from_bounds(*inner_box(real_source))
    assert panel.value is None and "Clusters" not in [x.name for x in fresh_map.layers]
    assert "run k-means again" in panel.status.value


def test_bad_sample_size_is_explained_and_refused(state, runner):
    panel = ClusterPanel(state, runner=runner)
    panel.samples.value = 3
    assert state.n_samples == 500 and panel.samples.value == 500
    assert "at least 10 pixels" in panel.status.value
