"""Products are values: they pickle (a Dask worker gets them whole), draw the same after a round trip, hold no
reader context, and what they remember lives in the context they are drawn with, never shared between contexts."""

from __future__ import annotations

import gc
import pickle
from types import BuiltinFunctionType, FunctionType, ModuleType

import numpy as np
import pytest
import rasterio

from aef_widgets.analysis.composite import BandStretch, PCAStretch
from aef_widgets.core.aoi import AOI
from aef_widgets.engines import local_products
from aef_widgets.engines.base import ClassProduct, Product, ThresholdedProduct
from aef_widgets.engines.context import PRODUCT_MEMO_ENTRIES, LocalContext
from aef_widgets.engines.ee_context import EEContext
from aef_widgets.engines.local import LocalEngine
from aef_widgets.engines.memo import Memo
from aef_widgets.engines.temporal_products import ChangeYearsProduct, anomaly_product, change_years_product
from aef_widgets.rendering.view import MapView
from aef_widgets.sources.sample import sample_source
from tests.earthengine_offline import AOI_WI, POINTS, Network, features, graph, map_id, unit_vectors

THRESHOLD = 0.6
#: What holds state a product must not: the engines and their contexts, their memos, pools.
CONTEXT_TYPES = (LocalContext, LocalEngine, EEContext, Memo)


@pytest.fixture(scope="module")
def source():
    return sample_source()


@pytest.fixture(scope="module")
def view(source) -> MapView:
    west, south, east, north = source.footprint.lonlat_bounds()
    return MapView(west, south, east, north, 256, 256)


@pytest.fixture(scope="module")
def local_products_(source, view) -> dict[str, Product]:
    """One product of every local kind, computed on the sample by the engine as the widgets ask for them."""
    engine = LocalEngine(source)
    west, south, east, north = source.footprint.lonlat_bounds()
    w, h = east - west, north - south
    aoi = AOI.from_bounds(west + 0.2 * w, south + 0.2 * h, west + 0.6 * w, south + 0.6 * h)
    points = [(west + fx * w, south + fy * h) for fx in (0.25, 0.5, 0.75) for fy in (0.3, 0.7)]
    year, years = source.years[-1], source.years
    return {
        "rgb bands": engine.rgb(year, BandStretch()),
        "rgb pca": engine.rgb(year, PCAStretch()),
        "similarity": engine.similarity(year, points[:2], None),
        "similarity with negatives": engine.similarity(year, points[:2], aoi, negatives=points[4:]),
        "change": engine.change(years[0], year, aoi),
        "clusters": engine.clusters(year, aoi, None, n_clusters=4, n_samples=200),
        "classes": engine.classes(year, points, [0, 0, 1, 1, 2, 2], 3, aoi, None, method="knn1"),
        "change years": change_years_product(engine, aoi),
        "anomaly": anomaly_product(engine, year, aoi),
    }


def drawings(product: Product, ctx, view: MapView) -> list:
    """Everything a product draws or measures for a view, as the panels ask for it."""
    drawn = [product.layer(ctx, view)]
    if isinstance(product, ThresholdedProduct):
        drawn += [product.above_layer(ctx, THRESHOLD, view), product.above_area(ctx, THRESHOLD, view)]
    if isinstance(product, ClassProduct):
        drawn += [product.layer(ctx, view, ["#102030", "#405060", "#708090"]), product.confidence_layer(ctx, view)]
    if isinstance(product, ChangeYearsProduct):
        drawn.append(product.layer(ctx, view, 0.2))
    return drawn


def reachable(obj: object, limit: int = 500_000) -> list[object]:
    """Every object reachable from ``obj`` through references, not following classes, modules or functions'
    globals (a function's closure is followed: a captured context is a kept context)."""
    seen: set[int] = set()
    found, stack = [], [obj]
    while stack:
        x = stack.pop()
        if id(x) in seen or isinstance(x, (type, ModuleType, BuiltinFunctionType)):
            continue
        seen.add(id(x))
        found.append(x)
        assert len(found) < limit, "the walk did not end: a product reaches far more than its values"
        if isinstance(x, FunctionType):
            stack.extend(cell.cell_contents for cell in x.__closure__ or ())
            continue
        stack.extend(gc.get_referents(x))
    return found


@pytest.mark.parametrize(
    "name",
    ["rgb bands", "rgb pca", "similarity", "similarity with negatives", "change", "clusters", "classes",
     "change years", "anomaly"],
)  # fmt: skip
def test_every_local_product_pickles_and_draws_the_same_after_a_round_trip(local_products_, name, source, view):
    product = local_products_[name]
    before = drawings(product, LocalContext(source), view)
    assert all(d is not None for d in before), "the view shows the product"
    copy = pickle.loads(pickle.dumps(product))
    assert type(copy) is type(product) and copy is not product
    # a fresh context, as a worker process has: the same PNGs and the same areas
    assert drawings(copy, LocalContext(source), view) == before


@pytest.mark.parametrize("name", ["clusters", "classes"])
def test_a_round_tripped_label_map_exports_the_same_geotiff(local_products_, name, source, tmp_path):
    product = local_products_[name]
    copy = pickle.loads(pickle.dumps(product))
    first = product.export(LocalContext(source), tmp_path / "a.tif")
    with rasterio.open(first) as a, rasterio.open(copy.export(LocalContext(source), tmp_path / "b.tif")) as b:
        assert a.transform == b.transform and a.crs == b.crs and a.tags() == b.tags()
        np.testing.assert_array_equal(a.read(), b.read())
        assert (a.read() != 255).any()


def test_a_product_holds_no_context_engine_or_memo(local_products_, source, view):
    for name, product in local_products_.items():
        drawings(product, LocalContext(source), view)  # what it remembers went to that context
        held = [type(x).__name__ for x in reachable(product) if isinstance(x, CONTEXT_TYPES)]
        assert held == [], f"{name} holds {held}"


def test_the_walk_finds_a_context_a_product_would_hold(local_products_, source):
    """The check above can fail: the same walk finds a context put in a product's fields or in a closure."""
    product = local_products_["similarity"]
    ctx = LocalContext(source)
    object.__setattr__(product, "kept", ctx)
    try:
        assert any(x is ctx for x in reachable(product))
    finally:
        object.__delattr__(product, "kept")
    assert any(x is ctx for x in reachable(lambda: ctx))


def test_two_contexts_never_share_a_products_memo(source, view, monkeypatch):
    computed = []
    score = local_products.similarity
    monkeypatch.setattr(local_products, "similarity", lambda *a: computed.append(1) or score(*a))
    engine = LocalEngine(source)
    west, south, east, north = source.footprint.lonlat_bounds()
    product = engine.similarity(source.years[0], [((west + east) / 2, (south + north) / 2)], None)
    a, b = LocalContext(source), LocalContext(source)
    first = product.layer(a, view)
    assert product.above_layer(a, THRESHOLD, view) is not None and len(computed) == 1  # remembered in ``a``
    assert product.layer(b, view) == first and len(computed) == 2  # ``b`` computes its own
    # another product of the same click is another value: its own entries, in the same context
    other = engine.similarity(source.years[0], [((west + east) / 2, (south + north) / 2)], None)
    assert other.token != product.token
    other.layer(a, view)
    assert len(computed) == 3
    # a pickled copy is the same value: it finds what the original left in the context
    pickle.loads(pickle.dumps(product)).layer(a, view)
    assert len(computed) == 3


def test_the_products_memo_stays_bounded_however_many_products_draw(source, view):
    engine, ctx = LocalEngine(source), LocalContext(source)
    west, south, east, north = source.footprint.lonlat_bounds()
    for i in range(PRODUCT_MEMO_ENTRIES + 8):
        point = (west + (east - west) * (i + 1) / 50, (south + north) / 2)
        product = engine.similarity(source.years[0], [point], None)
        product.layer(ctx, view)
        product.above_area(ctx, THRESHOLD, view)
    assert len(ctx._products) <= PRODUCT_MEMO_ENTRIES
    assert ctx._products.held_bytes <= ctx._products.max_bytes


# Earth Engine: the same values with server-side images, drawn through an ``EEContext`` -------------------------
URL = "https://earthengine.googleapis.com/v1/projects/p/maps/abc/tiles/{z}/{x}/{y}"


def ee_products(engine, network: Network) -> dict[str, Product]:
    groups = {"groups": [{"class": 0, "sum": 3e4, "count": 3}, {"class": 1, "sum": 1e4, "count": 1}]}
    network.answer("computeValue", features(unit_vectors(2)), features(unit_vectors(3, seed=1)), groups)
    network.answer("computeValue", features(unit_vectors(5, seed=2)), groups)
    return {
        "rgb": engine.rgb(2024, BandStretch()),
        "similarity": engine.similarity(2024, POINTS[:2], AOI_WI),
        "similarity with negatives": engine.similarity(2024, POINTS[:2], AOI_WI, negatives=POINTS[2:3]),
        "change": engine.change(2018, 2024, AOI_WI),
        "clusters": engine.clusters(2024, AOI_WI, None, n_clusters=2),
        "classes": engine.classes(2024, POINTS, [0, 1, 0, 1, 0], 2, AOI_WI, None, method="knn1"),
    }


def map_requests(product: Product, ctx: EEContext, network: Network) -> list[dict]:
    """The map requests drawing a product sends (its values, and above the threshold), graphs inline."""
    start, thresholded = network.count("getMapId"), isinstance(product, ThresholdedProduct)
    network.answer("getMapId", *[map_id(URL)] * (2 if thresholded else 1))
    layers = [product.layer(ctx, None)]
    if thresholded:
        layers.append(product.above_layer(ctx, THRESHOLD, None))
    assert all(layer.url == URL for layer in layers)
    sent = network.calls["getMapId"][start:]
    return [{k: graph(v) if k == "image" else v for k, v in request.items()} for request in sent]


def test_every_earth_engine_product_pickles_and_draws_the_same_after_a_round_trip(engine, network: Network):
    for name, product in ee_products(engine, network).items():
        before = map_requests(product, engine.context, network)
        copy = pickle.loads(pickle.dumps(product))
        assert type(copy) is type(product)
        after = map_requests(copy, EEContext(engine.source), network)
        assert after == before and before, name
        held = [type(x).__name__ for x in reachable(product) if isinstance(x, CONTEXT_TYPES)]
        assert held == [], f"{name} holds {held}"


def test_earth_engine_contexts_never_share_tiles_or_areas(engine, network: Network):
    network.answer("computeValue", features(unit_vectors(2)))
    product = engine.similarity(2024, POINTS[:2], AOI_WI)
    a, b = engine.context, EEContext(engine.source)
    network.answer("getMapId", map_id(URL), map_id(URL))
    product.layer(a, None)
    product.layer(a, None)
    assert network.count("getMapId") == 1  # remembered in ``a``
    product.layer(b, None)
    assert network.count("getMapId") == 2  # ``b`` asks for its own
    network.answer("computeValue", {"valid": 1e6, "above": 1e5}, {"valid": 1e6, "above": 1e5})
    assert product.above_area(a, THRESHOLD, None) == product.above_area(b, THRESHOLD, None)
    assert network.count("computeValue") == 3  # one per context
