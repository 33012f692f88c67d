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
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import ee
import google.auth.exceptions
import googleapiclient.errors
import httplib2
import numpy as np
from affine import Affine
from rasterio.crs import CRS

from ..core.aoi import AOI
from ..core.bands import BAND_NAMES, N_BANDS
from ..core.errors import EarthEngineError, SourceError, TooLargeError
from ..core.field import EmbeddingField
from ..core.geometry import wrap_lon
from ..core.grid import LONLAT, Footprint, Grid
from .base import ATTRIBUTION, EmbeddingSource, chunk_windows, subgrid

COLLECTION_ID = "GOOGLE/SATELLITE_EMBEDDING/V1/ANNUAL"
FIRST_YEAR = 2017
#: The last year published when this was written; ``discover_years`` asks Earth Engine for newer ones.
LATEST_KNOWN_YEAR = 2025
NATIVE_RESOLUTION = 10.0
#: Earth Engine refuses pixel requests above 48 MiB or 32768 px per side; stay well below.
MAX_REQUEST_BYTES = 32 * 2**20
MAX_REQUEST_SIDE = 32768
#: Bytes per pixel of a read: 64 float32 bands plus the float32 validity band.
_READ_BYTES_PER_PIXEL = (N_BANDS + 1) * 4
#: Widest AOI, in degrees of longitude, put on one UTM grid: 10 zones. Transverse Mercator grows distorted away from
#: its central meridian and reaches infinity 90° from it, where the grid of a hemisphere would be.
_MAX_GRID_SPAN_DEG = 60
_VALID_BAND = "valid"
_INDEX_PROPERTY = "aef_index"


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
        expression = self.image(year).select(list(BAND_NAMES)).toFloat().addBands(_validity(self.image(year)))
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
            ee.Feature(ee.Geometry.Point([float(lon), float(lat)]), {_INDEX_PROPERTY: i})
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
        return min(super().chunk_size(max_chunk_bytes), request_side(_READ_BYTES_PER_PIXEL))

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


# geometry helpers -----------------------------------------------------------------------------------------
def utm_crs(lon: float, lat: float) -> CRS:
    """The WGS84 UTM zone containing a lon/lat point (standard 6° zones, north or south)."""
    zone = min(60, max(1, math.floor(((lon + 180) % 360) / 6) + 1))  # lon may be past 180 (Leaflet, wide AOIs)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def crs_code(crs: CRS) -> str:
    """``EPSG:nnnn`` for Earth Engine requests."""
    epsg = crs.to_epsg()
    if epsg is None:
        raise SourceError(f"Earth Engine needs an EPSG code, and {crs.to_string()} has none")
    return f"EPSG:{epsg}"


def aoi_geometry(aoi: AOI) -> ee.Geometry:
    """The AOI as a planar lon/lat geometry: straight edges in degrees, as it was drawn and as it masks locally."""
    return ee.Geometry(aoi.geometry, None, False)


def pixel_grid(grid: Grid) -> dict:
    """A ``computePixels`` grid (PixelGrid) for a north-up Grid."""
    t = grid.transform
    return {
        "dimensions": {"width": int(grid.width), "height": int(grid.height)},
        "affineTransform": {
            "scaleX": t.a, "shearX": t.b, "translateX": t.c, "shearY": t.d, "scaleY": t.e, "translateY": t.f,
        },
        "crsCode": crs_code(grid.crs),
    }  # fmt: skip


def request_side(bytes_per_pixel: int) -> int:
    """Side of the largest square piece one pixel request may return."""
    return max(1, min(MAX_REQUEST_SIDE, math.isqrt(MAX_REQUEST_BYTES // bytes_per_pixel)))


# requests and their answers -------------------------------------------------------------------------------
def compute_pixels(expression: ee.Image, grid: Grid, action: str) -> np.ndarray:
    """One ``computePixels`` request for ``expression`` on ``grid``: a structured array shaped (rows, cols)."""
    request = {"expression": expression, "fileFormat": "NUMPY_NDARRAY", "grid": pixel_grid(grid)}
    with ee_errors(action):
        array = ee.data.computePixels(request)
    array = np.asarray(array)
    if array.shape[:2] != grid.shape:
        raise EarthEngineError(f"Earth Engine returned pixels shaped {array.shape[:2]} for a {grid.shape} request")
    return array


def decode_pixels(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A structured (rows, cols) array with fields A00..A63 and ``valid`` to float32 values and a mask.

    Earth Engine fills masked pixels with zeros in NumPy responses, so validity comes from the explicit band,
    and an all-zero vector is treated as a gap too.
    """
    names = array.dtype.names or ()
    missing = [b for b in (*BAND_NAMES, _VALID_BAND) if b not in names]
    if missing:
        raise EarthEngineError(f"Earth Engine returned no band {missing[0]}; is this the AEF collection?")
    values = np.stack([array[b] for b in BAND_NAMES], axis=-1).astype(np.float32)
    mask = (array[_VALID_BAND] > 0) & np.isfinite(values).all(axis=-1) & (values != 0).any(axis=-1)
    values[~mask] = np.nan
    return values, mask


def vectors_from_features(info: Any, n: int) -> np.ndarray:
    """(n, 64) float32 from a FeatureCollection's JSON, rows placed by ``aef_index`` (NaN where null or absent)."""
    out = np.full((n, N_BANDS), np.nan, dtype=np.float32)
    features = (info or {}).get("features", [])
    for position, feature in enumerate(features):
        props = feature.get("properties") or {}
        row = int(props.get(_INDEX_PROPERTY, position))
        values = [props.get(b) for b in BAND_NAMES]
        if 0 <= row < n and all(isinstance(v, (int, float)) for v in values):
            out[row] = values
    return out


def _validity(image: ee.Image) -> ee.Image:
    """1 where all 64 bands are unmasked, else 0 (never masked itself, so it always comes back)."""
    return image.select(list(BAND_NAMES)).mask().reduce(ee.Reducer.min()).unmask(0).toFloat().rename(_VALID_BAND)


# errors ---------------------------------------------------------------------------------------------------
_AUTH = "Earth Engine is not signed in: call aef_widgets.ee_auth.ee_init() (see ee_status() for why it failed)"
_MESSAGES: tuple[tuple[str, str], ...] = (
    (
        r"max retries|name resolution|failed to resolve|servernotfound|unable to find the server"
        r"|connection (?:refused|reset|aborted)|network is unreachable",
        "Earth Engine cannot be reached: check the network connection",
    ),
    (
        r"not initialized|please authorize|earthengine authenticate|unauthenticated|invalid authentication"
        r"|invalid_grant|\b401\b|reauthenticat|credentials|refresherror",
        _AUTH,
    ),
    (
        r"resource_exhausted|quota|too many requests|too many concurrent|rate limit|\b429\b",
        "Earth Engine's quota for this project is used up for now (too many requests); wait a minute and retry",
    ),
    (
        r"memory limit|too many pixels|maxpixels|request payload|total request size|too large|exceeds the limit"
        r"|too many (?:input|elements)",
        "the computation is too large for an interactive Earth Engine request; draw a smaller AOI, use fewer "
        "samples, or start an export task",
    ),
    (
        r"timed out|timeout|deadline",
        "Earth Engine took too long to answer; try a smaller AOI, or an export task for large areas",
    ),
    (
        r"no project found|no project",
        "Earth Engine needs a Google Cloud project: pass project= to ee_init, or set EARTHENGINE_PROJECT",
    ),
    (
        r"permission_denied|permission denied|\b403\b|not registered|has not been used in project"
        r"|does not have required permission",
        "Earth Engine refused access: the Cloud project must be registered for Earth Engine and have the Earth "
        "Engine API enabled (pass project= to ee_init, or set EARTHENGINE_PROJECT)",
    ),
    (
        r"did not match any bands|no bands|collection\.first: empty|empty collection|no valid training data"
        r"|training (?:data|set)|image\.select.*not found",
        "Earth Engine has no AEF embeddings there for that year; pick another year or an area with data",
    ),
)
#: What a call to Earth Engine may raise: its own errors, HTTP and auth failures, dropped connections.
NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    ee.EEException,
    googleapiclient.errors.HttpError,
    google.auth.exceptions.GoogleAuthError,
    httplib2.HttpLib2Error,
    OSError,  # sockets, timeouts and requests' errors; the guarded blocks only talk to Earth Engine
)
_SECRETS = re.compile(
    r"ya29\.[\w.\-]+|1//[\w\-]+|-----BEGIN[^-]+-----.*?-----END[^-]+-----|(?i:(?:token|key|secret)=)[^&\s\"']+",
    re.S,
)


def redact(text: str) -> str:
    """Text with anything that looks like an access token, refresh token or private key replaced."""
    return _SECRETS.sub("[redacted]", text)


def translate_ee_error(error: BaseException, action: str) -> EarthEngineError:
    """An ``EarthEngineError`` in plain words for an Earth Engine, HTTP or auth failure while doing ``action``."""
    kind = type(error).__name__
    said = str(error).strip()
    text = f"{kind} {getattr(getattr(error, 'resp', None), 'status', '')} {said}"
    first_line = redact(said.splitlines()[0] if said else kind)
    for pattern, message in _MESSAGES:
        if re.search(pattern, text, re.I):
            return EarthEngineError(f"{message} (while {action}: {first_line})")
    return EarthEngineError(f"Earth Engine failed while {action}: {first_line}")


@contextmanager
def ee_errors(action: str) -> Iterator[None]:
    """Turn Earth Engine, HTTP and auth failures inside the block into an ``EarthEngineError`` (cause kept)."""
    try:
        yield
    except NETWORK_ERRORS as e:
        raise translate_ee_error(e, action) from e
