"""The Fields tab with a Dask executor (a local cluster of two worker processes), driven with the frontend's
messages: the workers read the chunks and measure the fields (their task stream says so), and the tab's numbers
equal means computed here independently of the package: the bundled sample's int8 files read with plain rasterio,
dequantised by the AEF COG convention written in their tags (``sign(q) * (q / 127.5)^2``, -128 nodata), and
weighted by the shapely area of each pixel's square inside the field, over all eight years.
"""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from rasterio.windows import from_bounds

from aef_widgets.core.bands import BAND_NAMES
from aef_widgets.sources.sample import sample_dir, sample_source
from aef_widgets.widgets import ExplorerState, JobRunner, make_map
from aef_widgets.widgets.fields_panel import FieldsPanel
from tests.dask_cluster import dask_client
from tests.widgets.frontend import click, upload
from tests.widgets.test_fields_panel import YEAR, geojson_bytes, sample_fields

distributed = pytest.importorskip("distributed", reason="Dask is part of the test extra; install .[test]")


@pytest.fixture(scope="module")
def client():
    with dask_client() as client:
        yield client


def fractions(polygon: shapely.Geometry, shape: tuple[int, int], transform: Affine) -> np.ndarray:
    """The fraction of each pixel's square inside the polygon (as ``reference`` of test_tables weighs pixels)."""
    rows, cols = np.indices(shape)
    x0, y0 = transform @ (cols, rows)
    x1, y1 = transform @ (cols + 1, rows + 1)
    boxes = shapely.box(np.minimum(x0, x1), np.minimum(y0, y1), np.maximum(x0, x1), np.maximum(y0, y1))
    return shapely.area(shapely.intersection(boxes, polygon)) / abs(transform.a * transform.e)


def independent_means(source, table) -> dict[int, np.ndarray]:
    """(fields, 64) unit means of every year (NaN rows: no data), from the files themselves: the coverage-weighted
    mean of the unit vectors of the pixels with data, renormalised."""
    files = {year: rasterio.open(sample_dir() / f"aef_sample_{year}.tif") for year in source.years}
    out = {year: np.full((len(table), 64), np.nan) for year in source.years}
    try:
        ds = files[source.years[0]]
        for f, polygon in enumerate(table.to_crs(ds.crs).geometry):
            window = from_bounds(*polygon.buffer(20).bounds, ds.transform).round_offsets().round_lengths()
            weights = fractions(polygon, (window.height, window.width), ds.window_transform(window))
            for year, ds in files.items():
                assert "sign(q)*(q/127.5)^2" in ds.tags()["QUANTIZATION"] and ds.nodata == -128
                q = np.moveaxis(ds.read(window=window), 0, -1).astype(np.float64)
                valid = (q != -128).all(axis=2)
                values = np.sign(q) * (q / 127.5) ** 2
                unit = values / np.linalg.norm(values, axis=2, keepdims=True)
                w = np.where(valid, weights, 0.0)
                if w.sum() > 0:
                    mean = (w[..., None] * np.where(valid[..., None], unit, 0.0)).sum(axis=(0, 1)) / w.sum()
                    out[year][f] = mean / np.linalg.norm(mean)
    finally:
        for ds in files.values():
            ds.close()
    return out


# distributed leaves a socket it probed for a free port to the garbage collector, which may close it during this test
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_fields_tab_on_dask_measures_the_fields_on_the_workers(client, tmp_path):
    source = sample_source()
    table = sample_fields(source)
    means = independent_means(source, table)
    state = ExplorerState(source, year=YEAR, executor=client.get_executor())
    m = make_map(source)
    with distributed.get_task_stream(client) as stream:
        panel = FieldsPanel(state, map=m, runner=JobRunner.inline(), export_dir=tmp_path)
        upload(panel.upload, "fields.geojson", geojson_bytes(table))
    workers = set(client.scheduler_info()["workers"])
    assert stream.data and {task["worker"] for task in stream.data} <= workers  # measured on the workers
    assert panel.status.value == "" and "12 fields" in panel.notice.value
    got = panel.product.table[list(BAND_NAMES)].to_numpy(np.float64)
    np.testing.assert_allclose(got, means[YEAR], atol=1e-5)
    labels = panel.product.values  # k-means of those means: each field nearest its own cluster's centre
    centres = np.stack([got[labels == c].mean(axis=0) for c in range(5)])
    assert np.array_equal(((got[:, None] - centres[None]) ** 2).sum(axis=2).argmin(axis=1), labels)

    # a clicked field: its likeness to the others, and its change over the eight years, charted
    panel.picking.value = True
    point = table.to_crs("EPSG:4326").geometry.iloc[5].representative_point()
    with distributed.get_task_stream(client) as stream:
        click(m, point.x, point.y)
    assert stream.data  # the field's years were measured on the cluster too
    np.testing.assert_allclose(panel.product.values, means[YEAR] @ means[YEAR][5], atol=1e-5)
    v = np.stack([means[y][5] for y in source.years])
    lines = panel.chosen.lines
    np.testing.assert_allclose(lines.y[0], 1 - v @ v[0], atol=1e-5)
    np.testing.assert_allclose(lines.y[1][1:], 1 - np.einsum("ij,ij->i", v[1:], v[:-1]), atol=1e-5)

    # the largest change from a year to the next, of every field
    state.field_product = "steps"
    every = np.stack([means[y] for y in source.years], axis=1)
    steps = 1 - np.einsum("fyb,fyb->fy", every[:, 1:], every[:, :-1])
    frame = panel.product.frame()
    np.testing.assert_allclose(frame["largest_change"], steps.max(axis=1), atol=1e-5)
    assert list(frame["changed_in"]) == [source.years[1:][i] for i in steps.argmax(axis=1)]
    panel.close()
