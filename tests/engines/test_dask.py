"""Whole-AOI workflows on a Dask cluster of two worker processes: the workers read the chunks themselves, the
results equal the threaded path's, and the chunks in flight stay bounded."""

from __future__ import annotations

from concurrent.futures import Executor, Future

import numpy as np
import pytest

from aef_widgets.analysis.classify import EmbeddingClassifier
from aef_widgets.analysis.kmeans import EmbeddingKMeans
from aef_widgets.core.aoi import AOI
from aef_widgets.engines.workflows import (
    change_histogram,
    classify_grid,
    cluster_grid,
    executor_width,
    similarity_histogram,
)
from aef_widgets.sources.sample import sample_source, sample_truth
from tests.dask_cluster import dask_client

distributed = pytest.importorskip("distributed", reason="Dask is part of the test extra; install .[test]")


@pytest.fixture(scope="module")
def client():
    with dask_client() as client:
        yield client


@pytest.fixture(scope="module")
def source():
    return sample_source()


@pytest.fixture(scope="module")
def region(source):
    west, south, east, north = source.footprint.lonlat_bounds()
    aoi = AOI.from_bounds(west + 0.01, south + 0.01, east - 0.02, north - 0.01)  # not aligned to chunks
    return aoi, source.grid(aoi)


class Counting(Executor):
    """Passes work to another executor and records how many submitted chunks were not yet consumed."""

    def __init__(self, inner: Executor) -> None:
        self.inner, self.open, self.most = inner, 0, 0
        self._client = getattr(inner, "_client", None)

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future = self.inner.submit(fn, *args, **kwargs)
        self.open += 1
        self.most = max(self.most, self.open)
        original = future.result

        def result(timeout=None):
            value = original(timeout)
            self.open -= 1
            return value

        future.result = result
        return future


def test_the_executor_width_is_the_clusters_threads(client):
    assert executor_width(client.get_executor()) == 2


def test_k_means_on_dask_equals_the_threaded_path_with_bounded_chunks_in_flight(client, source, region):
    aoi, grid = region
    threaded = cluster_grid(source, grid, 2024, aoi, EmbeddingKMeans(n_clusters=5, n_samples=400, random_state=1))
    executor = Counting(client.get_executor())
    on_dask = cluster_grid(
        source, grid, 2024, aoi, EmbeddingKMeans(n_clusters=5, n_samples=400, random_state=1), executor=executor
    )
    np.testing.assert_array_equal(on_dask, threaded)
    assert (on_dask >= 0).sum() > 0.9 * grid.width * grid.height
    assert executor.most <= executor_width(executor) + 1  # one chunk per worker, plus one waiting
    # the workers did the reading: each holds far less than the AOI's embeddings (256 B a pixel)
    rss = client.run(lambda: __import__("psutil").Process().memory_info().rss)
    aoi_bytes = grid.width * grid.height * 256
    assert all(value < 400 * 2**20 + aoi_bytes / 4 for value in rss.values())


def test_areas_on_dask_equal_the_threaded_path(client, source, region):
    aoi, grid = region
    reference = source.sample([source.footprint.center_lonlat], 2024)
    executor = client.get_executor()
    threaded = similarity_histogram(source, grid, 2024, aoi, reference)
    on_dask = similarity_histogram(source, grid, 2024, aoi, reference, executor)
    for threshold in (0.5, 0.8, 0.95):
        assert on_dask.area_above(threshold) == pytest.approx(threaded.area_above(threshold), rel=1e-12)
    before, after = source.years[0], source.years[-1]
    threaded = change_histogram(source, grid, before, after, aoi)
    on_dask = change_histogram(source, grid, before, after, aoi, executor)
    assert on_dask.area_above(0.3) == pytest.approx(threaded.area_above(0.3), rel=1e-12) and on_dask.total_ha > 0


def test_classifying_on_dask_equals_the_threaded_path(client, source, region):
    aoi, grid = region
    truth = sample_truth()
    labels = truth.labels(2024)
    rng = np.random.default_rng(0)
    rows, cols = np.nonzero(labels != 255)
    pick = rng.choice(len(rows), 200, replace=False)
    field = source.read(None, 2024)
    model = EmbeddingClassifier(method="logistic").fit(
        field.values[rows[pick], cols[pick]], labels[rows[pick], cols[pick]]
    )
    threaded = classify_grid(source, grid, 2024, aoi, model)
    on_dask = classify_grid(source, grid, 2024, aoi, model, executor=client.get_executor())
    np.testing.assert_array_equal(on_dask.labels, threaded.labels)
    np.testing.assert_allclose(on_dask.confidence, threaded.confidence, equal_nan=True)


def test_products_sent_to_a_worker_process_draw_there_what_they_draw_here(client, source, region):
    """Products are values: pickled to a worker process, drawn there with the worker's own reader context."""
    from aef_widgets.engines.context import LocalContext
    from aef_widgets.engines.local import LocalEngine
    from aef_widgets.rendering.view import MapView

    def draw(product, view, ctx=None):  # nested, so sent by value: the worker needs no test module
        ctx = ctx or LocalContext(sample_source())
        if not hasattr(product, "above_area"):
            return (product.layer(ctx, view),)
        return product.layer(ctx, view), product.above_layer(ctx, 0.5, view), product.above_area(ctx, 0.5, view)

    aoi, _ = region
    engine = LocalEngine(source)
    view = MapView(*source.footprint.lonlat_bounds(), 200, 200)
    products = [
        engine.similarity(2024, [source.footprint.center_lonlat], aoi),
        engine.change(2018, 2024, aoi),
        engine.clusters(2024, aoi, None, n_clusters=3, n_samples=200),
    ]
    for product in products:
        here = draw(product, view, engine.context)
        there = client.submit(draw, product, view, pure=False).result()
        assert here[0] is not None and there == here, type(product).__name__
