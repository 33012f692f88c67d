"""find_similar on files written like the release's (int8, renormalised-mean overviews): the exact search against
a numpy top-k of the documented score read independently with rasterio, ties and nodata included; coarse-to-fine
against the exact search on a region with planted targets; one best pixel per neighbourhood; bad input in words.

The files are the real 96 px AEF raster in flipped copies (``tests.release_data.tile_codes``), written by the
release-like writer (``aef_widgets.data.cog``: renormalised-mean overviews; 256 px tiles, so a 768 px file is
streamed in several 512 px chunks and the tie group below spans chunk edges).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from aef_widgets import open_source
from aef_widgets.core.errors import NoDataError, TooLargeError, UsageError, YearError
from aef_widgets.core.execution import scoped
from aef_widgets.core.quantization import NODATA_INT8, dequantize, quantize
from aef_widgets.data.cog import write_embedding_cog
from aef_widgets.engines import region_search
from aef_widgets.engines.region_search import find_similar
from tests.release_data import tile_codes

CRS, LEFT, TOP = "EPSG:32616", 500_000.0, 4_880_000.0


def write(path: Path, codes: np.ndarray) -> Path:
    write_embedding_cog(path, codes, CRS, Affine(10, 0, LEFT, 0, -10, TOP), {"YEAR": "2024"})
    return path


def unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def reference_ranking(path: Path, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, cols, float64 scores) of every valid pixel, best first, ties north then west: the documented order,
    from the file read with plain rasterio."""
    with rasterio.open(path) as ds:
        codes = np.moveaxis(ds.read(), 0, -1)
    valid = codes[..., 0] != NODATA_INT8
    rows, cols = np.nonzero(valid)
    scores = np.einsum("ij,j->i", unit(dequantize(codes[valid])), weights)
    order = np.lexsort((rows * codes.shape[1] + cols, -scores))
    return rows[order], cols[order], scores[order]


def result_pixels(frame, source) -> list[tuple[int, int]]:
    grid = source.grid()
    return [grid.pixel_of(p.x, p.y) for p in frame.geometry]


@pytest.fixture(scope="module")
def tied(tmp_path_factory) -> tuple[Path, np.ndarray, list[tuple[int, int]]]:
    """768 px of real vectors; one vector planted at 30 places (across chunk edges: rows and columns 511/512), a
    nodata block, and a vector like no other to search for."""
    codes = tile_codes(768, 3)
    rng = np.random.default_rng(5)
    vector = quantize(unit(rng.normal(size=64)).astype(np.float32))
    places = [(511, 40), (512, 40), (300, 511), (300, 512), (511, 511), (512, 512)]
    places += [tuple(int(x) for x in rng.integers(0, 768, 2)) for _ in range(24)]
    for r, c in places:
        codes[r, c] = vector
    codes[600:640, 100:140] = NODATA_INT8  # sea, in every band at once
    path = write(tmp_path_factory.mktemp("tied") / "tied_2024.tif", codes)
    return path, dequantize(vector), sorted(set(places))


def test_exact_is_the_numpy_top_k_ties_north_then_west(tied) -> None:
    path, vector, places = tied
    source = open_source({2024: path})
    grid = source.grid()
    assert len(source.chunk_windows(grid, region_search.CHUNK_BYTES)) > 1  # streamed in several chunks
    rows, cols, scores = reference_ranking(path, unit(vector))
    assert np.all(scores[: len(places)] > 1 - 1e-9) and scores[len(places)] < 0.9  # the tie group leads
    seen: list[float] = []
    frame = find_similar(source, source.footprint.lonlat_bounds(), 2024, vector[None], top=20, exact=True,
                         progress=lambda fraction, _message: seen.append(fraction))  # fmt: skip
    # 20 of the 30 equal pixels: the first 20 north first, then west first
    assert result_pixels(frame, source) == list(zip(rows[:20].tolist(), cols[:20].tolist()))
    assert result_pixels(frame, source) == places[:20]
    assert frame["rank"].tolist() == list(range(1, 21)) and set(frame["year"]) == {2024}
    assert np.unique(frame["score"]).size == 1  # equal vectors score equal wherever their chunk puts them
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert "read 100.0% at 10 m" in str(frame.attrs["search"])

    frame = find_similar(source, source.footprint.lonlat_bounds(), 2024, vector[None], top=60, exact=True)
    # after the planted group come copies of the real raster's vectors: more groups of equal scores, in the
    # documented order too; distinct scores are far enough apart that float32 cannot swap them
    distinct = np.unique(scores[:61])
    assert len(distinct) < 31 and np.diff(distinct).min() > 1e-5
    assert result_pixels(frame, source) == list(zip(rows[:60].tolist(), cols[:60].tolist()))
    np.testing.assert_allclose(frame["score"], scores[:60], atol=2e-6)


def test_chunks_on_an_executor_give_the_same_answer(tied) -> None:
    path, vector, _places = tied
    source = open_source({2024: path})
    here = find_similar(source, source.footprint.lonlat_bounds(), 2024, vector[None], top=40, exact=True)
    with scoped(2, "test-executor") as pool:  # any concurrent.futures.Executor: a Dask client's too
        there = find_similar(source, source.footprint.lonlat_bounds(), 2024, vector[None], top=40, exact=True,
                             executor=pool)  # fmt: skip
    assert there["score"].tolist() == here["score"].tolist()
    assert there.geometry.geom_equals(here.geometry).all()


def test_nodata_is_never_scored(tied) -> None:
    path, vector, _places = tied
    source = open_source({2024: path})
    grid = source.grid()
    # a 20 x 20 px box, its south-west quarter... in the sea: only the 300 pixels with data come back
    x0, y0 = grid.transform @ (90, 590)
    x1, y1 = grid.transform @ (110, 610)
    from aef_widgets.core.aoi import AOI

    box = AOI.from_bounds(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1), crs=CRS)
    frame = find_similar(source, box, 2024, vector[None], top=1000, exact=True)
    pixels = result_pixels(frame, source)
    assert len(frame) == 20 * 20 - 10 * 10 and np.isfinite(frame["score"]).all()
    assert not any(600 <= r < 640 and 100 <= c < 140 for r, c in pixels)
    coarse = find_similar(source, box, 2024, vector[None], top=1000)
    assert sorted(result_pixels(coarse, source)) == sorted(pixels)


def test_min_distance_keeps_the_greedy_best_of_each_neighbourhood(tied) -> None:
    path, vector, _places = tied
    source = open_source({2024: path})
    rows, cols, _scores = reference_ranking(path, unit(vector))
    kept: list[tuple[int, int]] = []
    for r, c in zip(rows.tolist(), cols.tolist()):  # 55 m: between lattice distances 53.9 and 56.6 m
        if all(((r - kr) ** 2 + (c - kc) ** 2) * 100 >= 55**2 for kr, kc in kept):
            kept.append((r, c))
            if len(kept) == 40:
                break
    frame = find_similar(source, source.footprint.lonlat_bounds(), 2024, vector[None], top=40, min_distance_m=55,
                         exact=True)  # fmt: skip
    assert result_pixels(frame, source) == kept


def region_search_workers() -> int:
    from aef_widgets.engines.workflows import WORKERS

    return WORKERS


def planted_region(folder: Path, seed: int = 0) -> tuple[Path, np.ndarray, list[tuple[int, int, int, int]]]:
    """1024 px of real vectors (4 chunks of 512 px) with targets of one kind in the north-west chunk and decoys (a
    blend of the target and the background) everywhere."""
    rng = np.random.default_rng(seed)
    codes = tile_codes(1024, seed + 11)
    direction = unit(rng.normal(size=64))
    rects = []
    for _ in range(8):  # targets: 8-16 px, pixels the direction plus noise
        h, w = (int(x) for x in rng.integers(8, 17, 2))
        r, c = (int(x) for x in rng.integers(20, 480, 2))
        noise = rng.normal(scale=rng.uniform(0.25, 0.45) / 8, size=(h, w, 64))
        codes[r : r + h, c : c + w] = quantize(unit(direction + noise).astype(np.float32))
        rects.append((r, c, h, w))
    for _ in range(24):  # decoys anywhere
        h, w = (int(x) for x in rng.integers(10, 30, 2))
        r, c = (int(x) for x in rng.integers(0, 990, 2))
        background = unit(dequantize(codes[r : r + h, c : c + w]))
        codes[r : r + h, c : c + w] = quantize(unit(0.45 * direction + 0.55 * background).astype(np.float32))
    return write(folder / "planted_2024.tif", codes), direction, rects


def test_coarse_to_fine_finds_the_planted_targets_reading_less(tmp_path: Path) -> None:
    path, direction, rects = planted_region(tmp_path)
    source = open_source({2024: path})
    region = source.footprint.lonlat_bounds()
    exact = find_similar(source, region, 2024, direction[None], top=100, exact=True)
    found = result_pixels(exact, source)
    # the planted targets are the truth: the exact top 100 lies in them
    assert all(any(r <= y < r + h and c <= x < c + w for r, c, h, w in rects) for y, x in found)
    coarse = find_similar(source, region, 2024, direction[None], top=100)
    recall = len(set(result_pixels(coarse, source)) & set(result_pixels(exact, source))) / 100
    assert recall >= 0.95
    search = coarse.attrs["search"]
    overview, fine = search.levels
    assert (overview.resolution_m, overview.pixels, overview.fraction) == (80, 128 * 128, 1.0)
    assert fine.resolution_m == 10 and fine.chunks < fine.region_chunks == 4 and fine.fraction < 1
    assert search.method == "coarse-to-fine" and "heuristic" in search.pruning
    # a margin of 0 reads only the first round (a chunk per worker); an infinite one every chunk with data
    narrow = find_similar(source, region, 2024, direction[None], top=100, margin=0).attrs["search"].levels[1]
    assert narrow.chunks == min(region_search_workers(), 4)
    full = find_similar(source, region, 2024, direction[None], top=100, margin=np.inf)
    assert full.attrs["search"].levels[1].chunks == 4 and full["score"].tolist() == exact["score"].tolist()


def test_bad_input_is_refused_in_words(tied, monkeypatch) -> None:
    path, vector, _places = tied
    source = open_source({2024: path})
    region = source.footprint.lonlat_bounds()
    cases = [
        ({"top": 0}, UsageError, "top must be a whole number"),
        ({"top": 2.5}, UsageError, "top must be a whole number"),
        ({"min_distance_m": -5}, UsageError, "0 or more metres"),
        ({"min_distance_m": "far"}, UsageError, "distance in metres"),
        ({"margin": -0.1}, UsageError, "margin must be"),
        ({"coarse_factor": 1}, UsageError, "coarse_factor must be"),
        ({"min_distance_m": 20_000}, UsageError, "ask for fewer results or a smaller distance"),
    ]
    for kwargs, error, words in cases:
        with pytest.raises(error, match=words):
            find_similar(source, region, 2024, vector[None], **kwargs)
    with pytest.raises(UsageError, match=r"\(west, south, east, north\)"):
        find_similar(source, (1, 2, 3), 2024, vector[None])
    with pytest.raises(UsageError, match=r"\(n, 64\) embeddings or \(n, 2\) lon/lat points"):
        find_similar(source, region, 2024, np.ones((2, 5)))
    with pytest.raises(NoDataError, match="at least one positive"):
        find_similar(source, region, 2024, [])
    with pytest.raises(NoDataError, match="have no embedding"):
        find_similar(source, region, 2024, [(-86.5, 44.0)])  # a point outside the file
    with pytest.raises(YearError, match="2024"):
        find_similar(source, region, 2019, vector[None])
    with pytest.raises(NoDataError, match="does not overlap"):
        find_similar(source, (10, 10, 11, 11), 2024, vector[None])
    monkeypatch.setattr(region_search, "MAX_LOCAL_PX", 1000)
    with pytest.raises(TooLargeError, match=r"768 x 768 pixels.*Dask.*Earth Engine"):
        find_similar(source, region, 2024, vector[None], exact=True)
    with scoped(1, "test-executor") as pool:  # with an executor the limit is the cluster's
        assert len(find_similar(source, region, 2024, vector[None], top=3, exact=True, executor=pool)) == 3
