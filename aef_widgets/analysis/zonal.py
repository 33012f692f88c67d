"""Zonal embeddings: the coverage-weighted mean of the unit pixel vectors inside each polygon, accumulated chunk by
chunk.

A pixel counts for a polygon by the fraction of its area the polygon covers, as exactextract and Earth Engine's
``reduceRegions`` weigh pixels, so a polygon smaller than a pixel still gets that pixel's vector and a field's
edge pixels count by how much of them is field. Coverage fractions come from exactextract (exact, in C++); the sums
of the weighted vectors are one sparse matrix product per chunk. A pixel's coverage depends only on the pixel and
the polygon, never on the chunk it was read in, so sums over chunks are the sums over the whole polygon.

The mean of unit vectors is shorter than 1 when they disagree: ``spread`` is 1 minus its length (0 for a uniform
field), and the vector reported is that mean renormalised to unit length, like every AEF vector.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import shapely

from ..core.bands import BAND_NAMES, N_BANDS
from ..core.field import EmbeddingField
from ..core.grid import Grid

#: Covered pixels whose unit vectors are summed at a time (16 MiB of float64).
BLOCK_PIXELS = 32768
#: Polygons whose means are made at a time (4 MiB of float64 vectors).
BLOCK_ROWS = 8192


@dataclass(frozen=True)
class Coverage:
    """Which pixels of a grid each polygon covers and by how much: parallel arrays, one entry per (polygon, pixel)."""

    polygon: np.ndarray  # int64 index into the polygons given
    cell: np.ndarray  # int64 row-major index of the pixel in the grid
    fraction: np.ndarray  # float64 in (0, 1]


def coverage(polygons: np.ndarray, grid: Grid) -> Coverage:
    """Coverage fractions of the grid's pixels by each polygon (shapely geometries in the grid's CRS), with
    exactextract. Parts of a polygon outside the grid cover nothing here."""
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    if grid.transform.e > 0:  # a bottom-up grid: exactextract's cells are numbered from the top row
        raise ValueError("coverage needs a north-up grid")
    left, bottom, right, top = grid.bounds
    raster = NumPyRasterSource(_Ones(grid.shape), left, bottom, right, top)  # values unused: only cells count
    features = _WKBFeatures(shapely.to_wkb(np.asarray(polygons, dtype=object)))
    rows = exact_extract(raster, features, ["cell_id", "coverage"], include_cols=["i"], output=_Collect())
    counts = np.array([len(r["cell_id"]) for r in rows], dtype=np.int64)
    if not counts.sum():
        empty = np.zeros(0, dtype=np.int64)
        return Coverage(empty, empty, np.zeros(0))
    polygon = np.repeat(np.array([r["i"] for r in rows], dtype=np.int64), counts)
    cell = np.concatenate([r["cell_id"] for r in rows]).astype(np.int64)
    fraction = np.concatenate([r["coverage"] for r in rows]).astype(np.float64)
    return Coverage(polygon, cell, fraction)


def weighted_sums(cover: Coverage, field: EmbeddingField, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(weights (n,), sums (n, 64)) float64 over the field's valid pixels: the coverage of each of ``n`` polygons and
    the coverage-weighted sum of its unit vectors. Pixels without data never count."""
    from scipy.sparse import csr_matrix

    valid = field.mask.ravel()
    keep = valid[cover.cell]
    polygon, cell, fraction = cover.polygon[keep], cover.cell[keep], cover.fraction[keep]
    weights = np.bincount(polygon, fraction, minlength=n)
    if not len(cell):
        return weights, np.zeros((n, N_BANDS))
    used, local = np.unique(cell, return_inverse=True)  # only the covered valid pixels
    flat = field.values.reshape(-1, N_BANDS)
    sums = np.zeros((n, N_BANDS))
    order = np.argsort(local, kind="stable")
    edges = np.searchsorted(local[order], np.arange(0, len(used) + BLOCK_PIXELS, BLOCK_PIXELS))
    for i, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        # float64 vectors a block of pixels at a time: a whole chunk's would be 512 MiB for 1024 x 1024 px
        first = i * BLOCK_PIXELS
        vectors = flat[used[first : first + BLOCK_PIXELS]].astype(np.float64)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        take = order[a:b]
        block = csr_matrix((fraction[take], (polygon[take], local[take] - first)), shape=(n, len(vectors)))
        sums += block @ vectors
    return weights, sums


class ZonalSums:
    """Weights and weighted sums of unit vectors per polygon and year, added to chunk by chunk."""

    def __init__(self, n: int, n_years: int) -> None:
        self.weights = np.zeros((n_years, n))
        self.sums = np.zeros((n_years, n, N_BANDS))

    def add(self, year_index: int, polygons: np.ndarray, weights: np.ndarray, sums: np.ndarray) -> None:
        # a polygon appears once per chunk, so plain fancy-index addition is exact
        self.weights[year_index, polygons] += weights
        self.sums[year_index, polygons] += sums

    def columns(self, year_index: int, area_px: np.ndarray) -> dict[str | tuple[str, ...], np.ndarray]:
        """``pixels``, ``coverage``, the bands ``A00``..``A63`` (one (n, 64) float32 block, keyed by their names)
        and ``spread`` of every polygon for one year (NaN where a polygon covers no pixel with data, ``pixels`` 0
        there)."""
        weights, sums = self.weights[year_index], self.sums[year_index]
        unit = np.empty(sums.shape, dtype=np.float32)
        length = np.empty(len(weights))
        for a in range(0, len(weights), BLOCK_ROWS):
            # a block of polygons at a time: whole-table float64 temporaries were three more copies of the sums
            # (150 MiB for 100,000 polygons), more than the table returned
            w, s = weights[a : a + BLOCK_ROWS], sums[a : a + BLOCK_ROWS]
            has = w > 0
            mean = np.full_like(s, np.nan)
            mean[has] = s[has] / w[has, None]
            length[a : a + BLOCK_ROWS] = norm = np.linalg.norm(mean, axis=1)
            unit[a : a + BLOCK_ROWS] = mean / np.where(norm > 0, norm, np.nan)[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):  # no data: 0, whatever the area
            cover = np.where(weights > 0, weights / area_px, 0.0)
        return {"pixels": weights, "coverage": cover, BAND_NAMES: unit, "spread": 1.0 - length}


class _Ones:
    """A read-only all-ones raster of any shape without its memory: exactextract only reads windows of it."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = shape

    def __getitem__(self, key: tuple[slice, slice]) -> np.ndarray:
        rows, cols = key
        h = len(range(*rows.indices(self.shape[0])))
        w = len(range(*cols.indices(self.shape[1])))
        return np.ones((h, w), dtype=np.float32)


@functools.cache
def _feature_classes() -> tuple[type, type]:
    from exactextract._exactextract import Feature
    from exactextract.feature import FeatureSource
    from exactextract.writer import Writer

    class WKBFeature(Feature):
        """A polygon as WKB and its index: exactextract's GeoPandas source goes through GeoJSON text instead,
        which took most of the time for many small polygons (measured: 3.5x slower for 20,000)."""

        def __init__(self, i: int | None = None, wkb: bytes | None = None) -> None:
            Feature.__init__(self)
            self.i, self.wkb, self.props = i, wkb, {}

        def geometry(self) -> bytes | None:
            return self.wkb

        def get(self, name: str) -> int | None:
            return self.i

        def fields(self) -> list[str]:
            return ["i"]

        def set(self, name: str, value: object) -> None:
            self.props[name] = value

        def set_geometry(self, wkb: bytes) -> None:
            pass

        def set_geometry_format(self) -> str:
            return "wkb"

    class WKBFeatures(FeatureSource):
        def __init__(self, wkbs: np.ndarray) -> None:
            super().__init__()
            self.wkbs = wkbs

        def count(self) -> int:
            return len(self.wkbs)

        def __iter__(self):
            for i, wkb in enumerate(self.wkbs):
                yield WKBFeature(i, wkb)

        def srs_wkt(self) -> None:
            return None

    class Collect(Writer):
        """Each feature's ``i``, ``cell_id`` and ``coverage`` as a dict, nothing else."""

        def __init__(self) -> None:
            super().__init__()
            self.rows: list[dict] = []

        def add_operation(self, op: object) -> None:
            pass

        def write(self, feature: object) -> None:
            out = WKBFeature()
            feature.copy_to(out)  # type: ignore[attr-defined]
            self.rows.append(out.props)

        def features(self) -> list[dict]:
            return self.rows

    return WKBFeatures, Collect


def _WKBFeatures(wkbs: np.ndarray):
    return _feature_classes()[0](wkbs)


def _Collect():
    return _feature_classes()[1]()
