"""Embeddings from Earth Engine: ``GOOGLE/SATELLITE_EMBEDDING/V1/ANNUAL``, read on demand, worldwide.

The collection holds one image per UTM tile and year. A year is the collection filtered to that calendar year and
mosaicked; reads ask for pixels on an explicit grid in the UTM zone of the AOI's centre, aligned to the 10 m UTM
lattice the tiles are stored on, so pixels come back exactly as stored. Every call that reaches the network goes
through ``ee.data`` (``computePixels``, ``computeValue``), and every Earth Engine failure becomes an
``EarthEngineError`` that says what to do.

Products are computed server-side by ``aef_widgets.engines.earthengine.EarthEngineEngine``; this module only reads.
Grids coarser than 10 m are served from Earth Engine's pyramids, which average neighbouring embeddings: such
vectors are shorter than unit length. Read at 10 m for true embeddings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import ee
import numpy as np
from affine import Affine

from ..core.aoi import AOI
from ..core.bands import BAND_NAMES, N_BANDS
from ..core.errors import EarthEngineError, SourceError, TooLargeError
from ..core.field import EmbeddingField
from ..core.geometry import wrap_lon
from ..core.grid import LONLAT, Footprint, Grid
from .base import ATTRIBUTION, EmbeddingSource, chunk_windows, subgrid
from .earthengine_errors import NETWORK_ERRORS, ee_errors, redact, translate_ee_error
from .earthengine_pixels import (
    INDEX_PROPERTY,
    MAX_REQUEST_BYTES,
    MAX_REQUEST_SIDE,
    aoi_geometry,
    compute_pixels,
    crs_code,
    decode_pixels,
    pixel_grid,
    request_side,
    utm_crs,
    validity,
    vectors_from_features,
)

COLLECTION_ID = "GOOGLE/SATELLITE_EMBEDDING/V1/ANNUAL"
FIRST_YEAR = 2017
#: The last year published when this was written; ``discover_years`` asks Earth Engine for newer ones.
LATEST_KNOWN_YEAR = 2025
NATIVE_RESOLUTION = 10.0
#: Bytes per pixel of a read: 64 float32 bands plus the float32 validity band.
_READ_BYTES_PER_PIXEL = (N_BANDS + 1) * 4
#: Widest AOI, in degrees of longitude, put on one UTM grid: 10 zones. Transverse Mercator grows distorted away from
#: its central meridian and reaches infinity 90° from it, where the grid of a hemisphere would be.
_MAX_GRID_SPAN_DEG = 60


class EarthEngineSource(EmbeddingSource):
    """The AEF annual embeddings on Earth Engine. Nothing is requested until pixels or points are read."""

    name = "Earth Engine: AlphaEarth Foundations annual embeddings"
    attribution = ATTRIBUTION

    def __init__(
        self,
        years: Sequence[int] | None = None,
        *,
        collection_id: str = COLLECTION_ID,
        max_read_pixels: int = 2**22,
    ) -> None:
        self._years = tuple(sorted(int(y) for y in years)) if years else tuple(range(FIRST_YEAR, LATEST_KNOWN_YEAR + 1))
        self.collection_id = collection_id
        #: Largest grid ``read_window`` accepts (2**22 px is 1 GiB of float32); larger areas belong in an export.
        self.max_read_pixels = max_read_pixels

    def __repr__(self) -> str:
        return f"EarthEngineSource({self.collection_id!r}, years={list(self.years)})"

    # the EmbeddingSource interface ------------------------------------------------------------------------
    @property
    def years(self) -> tuple[int, ...]:
        return self._years

    @property
    def footprint(self) -> Footprint:
        return Footprint((-180.0, -90.0, 180.0, 90.0), LONLAT)

    @property
    def resolution(self) -> float:
        return NATIVE_RESOLUTION

    def grid(self, aoi: AOI | None = None, resolution: float | None = None) -> Grid:
        """Grid over the AOI in the UTM zone of its centre, on the UTM lattice of whole multiples of 10 m."""
        if aoi is None:
            raise SourceError("Earth Engine covers the whole world: draw or pass an AOI to read")
        factor = 1 if resolution is None else max(1, round(resolution / NATIVE_RESOLUTION))
        res = NATIVE_RESOLUTION * factor
        west, south, east, north = aoi.bounds
        if east - west > _MAX_GRID_SPAN_DEG:  # a transverse Mercator grid that wide is distorted or infinite
            raise TooLargeError(
                f"the AOI spans {east - west:.0f}° of longitude, too wide for one {NATIVE_RESOLUTION:g} m UTM grid "
                f"(at most {_MAX_GRID_SPAN_DEG}°); draw a smaller AOI, or compute it on Earth Engine's servers "
                "(map layers, areas) or with an export task"
            )
        crs = utm_crs((west + east) / 2, (south + north) / 2)
        left, bottom, right, top = aoi.bounds_in(crs)
        col0, col1 = math.floor(left / res), math.ceil(right / res)
        row0, row1 = math.floor(-top / res), math.ceil(-bottom / res)
        transform = Affine(res, 0, col0 * res, 0, -res, -row0 * res)
        return Grid(transform, max(1, col1 - col0), max(1, row1 - row0), crs)

    def read_window(self, grid: Grid, year: int) -> EmbeddingField:
        """Pixels on ``grid`` via ``computePixels``, one request per piece that fits Earth Engine's size limit."""
        self.check_year(year)
        n_pixels = grid.width * grid.height
        if n_pixels > self.max_read_pixels:
            raise EarthEngineError(
                f"{n_pixels:,} pixels is too many to download from Earth Engine at once (the limit here is "
                f"{self.max_read_pixels:,}); use stream() to read it piece by piece, or compute on the server"
            )
        expression = self.image(year).select(list(BAND_NAMES)).toFloat().addBands(validity(self.image(year)))
        values = np.full((*grid.shape, N_BANDS), np.nan, dtype=np.float32)
        mask = np.zeros(grid.shape, dtype=bool)
        for window in chunk_windows(grid, self.chunk_size(MAX_REQUEST_BYTES)):
            piece = compute_pixels(expression, subgrid(grid, window), "reading embeddings")
            piece_values, piece_mask = decode_pixels(piece)
            values[window.toslices()] = piece_values
            mask[window.toslices()] = piece_mask
        return EmbeddingField(values=values, mask=mask, grid=grid, year=year)

    def sample(self, points: Sequence[tuple[float, float]], year: int) -> np.ndarray:
        """Vectors at lon/lat points in one request (``reduceRegions`` at 10 m), NaN rows where there is no data."""
        self.check_year(year)
        lonlat = np.asarray(points, dtype=float).reshape(-1, 2).copy()
        if len(lonlat) == 0:
            return np.empty((0, N_BANDS), dtype=np.float32)
        lonlat[:, 0] = wrap_lon(lonlat[:, 0])  # Leaflet's world copies: -448.79 is -88.79
        features = [
            ee.Feature(ee.Geometry.Point([float(lon), float(lat)]), {INDEX_PROPERTY: i})
            for i, (lon, lat) in enumerate(lonlat)
        ]
        # on a zone's 10 m lattice a point falls in its stored pixel; the readout (last) point's zone decides
        crs = crs_code(utm_crs(*lonlat[-1]))
        sampled = (
            self.image(year)
            .select(list(BAND_NAMES))
            .reduceRegions(
                collection=ee.FeatureCollection(features), reducer=ee.Reducer.first(), scale=NATIVE_RESOLUTION, crs=crs
            )
        )
        with ee_errors("sampling embeddings at the clicked points"):
            info = sampled.getInfo()
        return vectors_from_features(info, len(lonlat))

    def chunk_size(self, max_chunk_bytes: int) -> int:
        """Chunks no larger than one pixel request, so ``stream`` makes one request per chunk."""
        return min(super().chunk_size(max_chunk_bytes), request_side(_READ_BYTES_PER_PIXEL, MAX_REQUEST_BYTES))

    # Earth Engine objects ---------------------------------------------------------------------------------
    def collection(self) -> ee.ImageCollection:
        """The whole image collection, every tile of every year (server-side)."""
        if not ee.data.is_initialized():  # ee itself would raise an EEException that reaches users as a class name
            raise EarthEngineError(
                "Earth Engine is not signed in yet: call aef_widgets.ee_init() before using EarthEngineSource "
                "(when it returns False, ee_status() says why)"
            )
        return ee.ImageCollection(self.collection_id)

    def image(self, year: int) -> ee.Image:
        """The mosaic of one calendar year (a server-side object; nothing is requested)."""
        year = self.check_year(year)
        return self.collection().filterDate(f"{year}-01-01", f"{year + 1}-01-01").mosaic()

    def discover_years(self) -> tuple[int, ...]:
        """Ask Earth Engine which years exist (one request), remember and return them."""
        last = max(LATEST_KNOWN_YEAR + 5, self._years[-1])
        collection = self.collection()

        def present(year: Any) -> ee.ComputedObject:
            year = ee.Number(year)
            start = ee.Date.fromYMD(year, 1, 1)
            found = collection.filterDate(start, start.advance(1, "year")).limit(1).size()
            return ee.Algorithms.If(found.gt(0), year, None)

        with ee_errors("listing the years on Earth Engine"):
            years = ee.List.sequence(FIRST_YEAR, last).map(present, True).getInfo()
        if not years:
            raise EarthEngineError(f"Earth Engine lists no images in {self.collection_id}")
        self._years = tuple(sorted(int(y) for y in years))
        return self._years


__all__ = [
    "COLLECTION_ID", "FIRST_YEAR", "LATEST_KNOWN_YEAR", "MAX_REQUEST_BYTES", "MAX_REQUEST_SIDE", "NATIVE_RESOLUTION",
    "NETWORK_ERRORS", "EarthEngineSource", "aoi_geometry", "compute_pixels", "crs_code", "decode_pixels", "ee_errors",
    "pixel_grid", "redact", "request_side", "translate_ee_error", "utm_crs", "vectors_from_features",
]  # fmt: skip
