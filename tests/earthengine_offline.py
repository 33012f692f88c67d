"""Earth Engine offline: real ``ee`` objects built from the installed API's algorithm list, the network stubbed.

``ee_offline`` initialises the library the way ``ee.apitestcase.ApiTestCase`` does, without a unittest class;
``network`` replaces only the functions of ``ee.data`` that talk to Google, records every call, and answers from
queued responses (an unexpected call fails the test).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import ee
import numpy as np
import pytest
from ee import apitestcase

from aef_widgets.core.aoi import AOI
from aef_widgets.core.bands import BAND_NAMES

#: The functions of ``ee.data`` that make requests; everything else in ``ee`` stays real.
NETWORK_FUNCTIONS = (
    "computeValue", "getMapId", "computePixels", "getDownloadId", "getThumbId", "getOperation", "exportImage",
    "cancelOperation", "listOperations", "getAsset", "getInfo", "getList", "listAssets", "listImages", "exportTable",
)  # fmt: skip
#: A small AOI in Wisconsin (UTM 16N) and points inside it, shared by the tests.
AOI_WI = AOI.from_bounds(-88.78, 44.29, -88.76, 44.30)  # UTM 16N
POINTS = [(-88.775, 44.295), (-88.772, 44.296), (-88.77, 44.297), (-88.768, 44.298), (-88.765, 44.299)]


def unit_vectors(n: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, 64))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def features(vectors: np.ndarray) -> dict:
    """The JSON of a FeatureCollection of sampled points, as ``getInfo`` returns it."""
    rows = [
        {"type": "Feature", "properties": {"aef_index": i, **dict(zip(BAND_NAMES, map(float, v)))}}
        for i, v in enumerate(vectors)
    ]
    return {"type": "FeatureCollection", "features": rows}


@pytest.fixture
def ee_offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``ee`` initialised with the real algorithm signatures and no credentials; reset afterwards."""
    ee.Reset()
    monkeypatch.setattr(ee.data, "_install_cloud_api_resource", lambda: None)
    monkeypatch.setattr(ee.data, "getAlgorithms", apitestcase.GetAlgorithms)
    monkeypatch.setattr(ee.deprecation, "_FetchDataCatalogStac", lambda: {})
    for name in NETWORK_FUNCTIONS:
        monkeypatch.setattr(ee.data, name, _unexpected(name))
    ee.Initialize(None, "", project="test-project")
    yield
    ee.Reset()


def _unexpected(name: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"unexpected network call: ee.data.{name}")

    return call


class Network:
    """Stand-in for the network functions of ``ee.data``: counts calls and answers from queues."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: dict[str, list[Any]] = defaultdict(list)
        self._answers: dict[str, list[Any]] = defaultdict(list)
        for name in NETWORK_FUNCTIONS:
            monkeypatch.setattr(ee.data, name, self._stub(name))

    def answer(self, name: str, *answers: Any) -> Network:
        """Queue answers for ``ee.data.<name>``: a value, an exception to raise, or a function of the request."""
        self._answers[name].extend(answers)
        return self

    def count(self, name: str | None = None) -> int:
        """Calls made to one function, or to all of them."""
        return len(self.calls[name]) if name else sum(len(c) for c in self.calls.values())

    def last(self, name: str) -> Any:
        return self.calls[name][-1]

    def _stub(self, name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            request = args[0] if len(args) == 1 else args
            self.calls[name].append(request)
            if not self._answers[name]:
                raise AssertionError(f"unexpected network call: ee.data.{name}")
            answer = self._answers[name].pop(0)
            if isinstance(answer, BaseException):
                raise answer
            return answer(request) if callable(answer) else answer

        return call


@pytest.fixture
def network(ee_offline: None, monkeypatch: pytest.MonkeyPatch) -> Network:
    return Network(monkeypatch)


def map_id(url: str = "https://earthengine.googleapis.com/v1/projects/p/maps/abc/tiles/{z}/{x}/{y}") -> dict:
    """What ``ee.data.getMapId`` returns."""
    return {"mapid": "abc", "token": "", "tile_fetcher": ee.data.TileFetcher(url, map_name="abc")}


# walking serialized graphs --------------------------------------------------------------------------------
def graph(obj: Any) -> dict:
    """The expression tree of an ``ee`` object, every node inline (no value references)."""
    return ee.serializer.encode(obj, is_compound=False, for_cloud_api=True)


def calls(node: Any, function: str) -> list[dict]:
    """The arguments of every invocation of ``function`` in a graph, outermost first."""
    found: list[dict] = []

    def walk(n: Any) -> None:
        if isinstance(n, dict):
            inv = n.get("functionInvocationValue")
            if isinstance(inv, dict) and inv.get("functionName") == function:
                found.append(inv.get("arguments", {}))
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(node)
    return found


def only_call(node: Any, function: str) -> dict:
    found = calls(node, function)
    assert len(found) == 1, f"expected one {function}, found {len(found)}"
    return found[0]


def const(node: dict) -> Any:
    """The Python value of a constant node (constants, arrays and dictionaries of constants)."""
    if "constantValue" in node:
        return node["constantValue"]
    if "arrayValue" in node:
        return [const(v) for v in node["arrayValue"]["values"]]
    if "dictionaryValue" in node:
        return {k: const(v) for k, v in node["dictionaryValue"]["values"].items()}
    raise AssertionError(f"not a constant: {node}")
