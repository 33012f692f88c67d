"""What one GeoTIFF of embeddings is: encoding, band order, grid, orientation, year.

Two encodings exist in the wild: the int8 Cloud-Optimized GeoTIFF release (nodata -128) and float32/float64
exports from Earth Engine (NaN, infinities or a declared nodata value mark missing pixels). Some mirrors of the
release store rows bottom-up (a positive y pixel size); readers must flip them.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError
from rasterio.windows import Window

from ..core.bands import BAND_NAMES, N_BANDS
from ..core.errors import SourceError
from ..core.memory import GDAL_CACHE_ENV, GDAL_CACHE_MB, budget_bytes
from ..core.quantization import NODATA_INT8, dequantize, dequantize_into
from .release_http import CONNECT_SECONDS, STALL_SECONDS, USER_AGENT

#: GDAL settings for reading COGs locally and over HTTP: decode with every core, never list remote folders,
#: merge neighbouring byte ranges into one request, name ourselves and give up on stalled servers. Reads made from a
#: pool of threads decode with one GDAL thread each (``decode_threads``). Every read opens and closes its dataset,
#: so the block cache only holds the tiles of the reads in progress; its bound is per kernel
#: (``AEF_WIDGETS_GDAL_CACHE_MB``, 64 MiB by default: 512 MiB let a visit's kernel grow by hundreds of MB).
GDAL_OPTIONS = {
    "GDAL_NUM_THREADS": "ALL_CPUS",
    "GDAL_CACHEMAX": budget_bytes(GDAL_CACHE_ENV, GDAL_CACHE_MB),
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "GDAL_HTTP_MULTIRANGE": "YES",
    "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.tiff,.TIF,.TIFF",
    "VSI_CACHE": "TRUE",
    # HTTP: our own User-Agent (some hosts refuse library defaults), and a stalled server is a timeout, not a hang
    "GDAL_HTTP_USERAGENT": USER_AGENT,
    "GDAL_HTTP_CONNECTTIMEOUT": str(CONNECT_SECONDS),
    "GDAL_HTTP_LOW_SPEED_TIME": str(STALL_SECONDS),
    "GDAL_HTTP_LOW_SPEED_LIMIT": "1",
    "GDAL_HTTP_MAX_RETRY": "2",
    "GDAL_HTTP_RETRY_DELAY": "0.5",
}
#: What GDAL says when a file ends early or its compressed blocks do not decode.
_DAMAGED = re.compile(
    r"TIFFFillTile|TIFFFillStrip|Read error at|TIFFReadEncoded|IReadBlock failed|truncat|unexpected end|"
    r"Decompression failed|ZIPDecode|LZWDecode|JPEGLib|premature end|TIFFReadDirectory|Failed to read directory",
    re.IGNORECASE,
)
_YEAR_IN_NAME = re.compile(r"(?<!\d)(20[1-9]\d)(?!\d)")
_ONES = np.ones(N_BANDS, dtype=np.float32)
#: Per-thread override of GDAL_NUM_THREADS, set by ``decode_threads``.
_local = threading.local()


@contextmanager
def gdal_env() -> Iterator[None]:
    """The GDAL environment every read runs in."""
    threads = getattr(_local, "threads", None)
    options = GDAL_OPTIONS if threads is None else {**GDAL_OPTIONS, "GDAL_NUM_THREADS": str(threads)}
    with rasterio.Env(**options):
        yield


@contextmanager
def decode_threads(threads: int | str) -> Iterator[None]:
    """Reads made by this thread decode with ``threads`` GDAL threads (a number or "ALL_CPUS") and are not split
    into bands over threads of their own (``parallel_reads`` is then True).

    Callers that already read chunks in a pool of threads use few: GDAL's own threads then mostly compete with the
    pool for the same cores (measured on 2 cores: a pool of 2 single-threaded reads of one tile each is about 30%
    faster than one read decoded by all cores), though two let GDAL decode a multi-tile read straight into place.
    """
    before = getattr(_local, "threads", None)
    _local.threads = threads
    try:
        yield
    finally:
        _local.threads = before


@contextmanager
def read_errors(path: str, year: int | None = None) -> Iterator[None]:
    """GDAL's read failures as a ``SourceError`` that names the file and says what probably happened.

    A failed read fails this one operation: the source, its other files and other years keep working.
    """
    try:
        yield
    except RasterioIOError as e:
        raise SourceError(describe_read_failure(path, e, year)) from e


def describe_read_failure(path: str, error: BaseException, year: int | None = None) -> str:
    """Words for a GDAL read failure: truncated or damaged file, unreachable server, or GDAL's own reason."""
    causes = _causes(error)
    detail = " ".join(causes)
    which = f"{path} (the {year} data)" if year is not None else path
    if "://" in path or path.startswith("/vsi"):  # GDAL reports a failed range request as a short TIFF read
        return (
            f"cannot read {which}: the server did not send the data (it did not answer, refused, or holds a "
            "truncated copy); try again later. Other files and years are not affected."
        )
    if _DAMAGED.search(detail):
        return (
            f"cannot read {which}: the file looks truncated or damaged (a download or copy cut short?); download or "
            "copy it again. Other files and years are not affected."
        )
    return f"cannot read {which}: {_last_reason(causes)}"


def gdal_reason(error: BaseException) -> str:
    """GDAL's own words for why an operation failed (its innermost message), without exception class names."""
    return _last_reason(_causes(error))


def _causes(error: BaseException) -> list[str]:
    causes = []
    cause: BaseException | None = error
    while cause is not None and len(causes) < 8:
        causes.append(str(cause))
        cause = cause.__cause__ or cause.__context__
    return causes


def _last_reason(causes: list[str]) -> str:
    """GDAL's innermost message, the most specific one, shortened."""
    reason = next((c for c in reversed(causes) if c and "see previous exception" not in c.lower()), "read failed")
    return reason if len(reason) <= 160 else reason[:157] + "..."


def parallel_reads() -> bool:
    """True inside ``decode_threads``: this thread's caller already reads in parallel, or chose GDAL's threads."""
    return getattr(_local, "threads", None) is not None


@dataclass(frozen=True)
class RasterFile:
    """Metadata of one embeddings GeoTIFF, read once when a source is opened."""

    path: str
    crs: CRS
    transform: Affine
    width: int
    height: int
    encoding: str  # "int8" or "float"
    band_indexes: tuple[int, ...]  # 1-based file band of A00..A63
    nodata: float | None
    block: int
    overview_factors: tuple[int, ...]
    year: int | None

    @property
    def bottom_up(self) -> bool:
        return self.transform.e > 0

    @property
    def resolution(self) -> float:
        return abs(self.transform.a)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) whatever the row order."""
        x0, y0 = self.transform @ (0, 0)
        x1, y1 = self.transform @ (self.width, self.height)
        return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))

    def decode(self, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Band-first file values (64, rows, cols) to float32 (rows, cols, 64) values and a validity mask."""
        pixels = np.moveaxis(data, 0, -1)
        if self.encoding == "int8":
            values = dequantize(pixels)
            valid = ~(pixels == NODATA_INT8).any(axis=-1)
        else:
            values = pixels.astype(np.float32)
            valid = np.isfinite(values).all(axis=-1)
            if self.nodata is not None and np.isfinite(self.nodata):
                valid &= ~(pixels == self.nodata).any(axis=-1)
        valid &= (pixels != 0).any(axis=-1)  # an all-zero vector is an unmasked gap, not a unit vector
        values[~valid] = np.nan
        return values, valid

    @property
    def reads_pixel_first(self) -> bool:
        """True when ``read_vectors`` can have GDAL write float32 (or int8) vectors straight into place.

        A float file with a finite nodata value is the exception: that value must be compared before the
        conversion to float32 could change it. Bottom-up files are flipped by ``decode``'s caller instead.
        """
        finite_nodata = self.encoding == "float" and self.nodata is not None and np.isfinite(self.nodata)
        return not finite_nodata and not self.bottom_up

    def read_vectors(self, ds: rasterio.DatasetReader, window: Window, out: np.ndarray) -> np.ndarray:
        """Read a window into ``out``, a C-contiguous float32 (rows, cols, 64) array; return the validity mask.

        The same values and mask as ``decode`` (for files where ``reads_pixel_first``), in one pass instead of
        four: GDAL converts and interleaves while it copies out of its tiles, so no band-first copy, transpose or
        float64 array is ever made. ``out`` may have fewer rows and columns than the window (overview reads).
        """
        if not out.flags.c_contiguous or out.dtype != np.float32:
            raise ValueError("read_vectors needs a C-contiguous float32 buffer")
        bands = np.moveaxis(out, -1, 0)  # a band-first view of the pixel-first buffer: GDAL honours the strides
        if self.encoding == "int8":
            codes = np.empty(out.shape, dtype=np.int8)
            ds.read(self.band_indexes, window=window, out=np.moveaxis(codes, -1, 0), resampling=Resampling.nearest)
            dequantize_into(codes, out)  # nodata -> NaN
        else:
            ds.read(self.band_indexes, window=window, out=bands, resampling=Resampling.nearest)
        return finish_vectors(out.reshape(-1, N_BANDS)).reshape(out.shape[:2])


def finish_vectors(values: np.ndarray) -> np.ndarray:
    """Validity of (n, 64) float32 vectors (every band finite, not all zero); invalid rows are set to NaN in place.

    One matrix-vector product with ones finds the rows that need a look: a NaN or infinity in any band makes the
    sum non-finite, and only an all-zero row (or an unlucky cancellation) sums to exactly zero. Those few rows are
    then checked band by band, so the result is exact while the common case costs one streaming pass.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # overflow and inf - inf only mark rows to look at
        total = values @ _ONES
    valid = np.isfinite(total)
    valid &= total != 0
    suspect = np.flatnonzero(~valid)
    if suspect.size:
        rows = values[suspect]
        ok = np.isfinite(rows).all(axis=1) & (rows != 0).any(axis=1)
        valid[suspect] = ok
        values[suspect[~ok]] = np.nan
    return valid


def inspect_file(path: str, year: int | None = None) -> RasterFile:
    """Open a GeoTIFF once and describe it, or say plainly why it is not AEF embeddings."""
    try:
        with gdal_env(), rasterio.open(path) as ds:
            return _describe(ds, str(path), year)
    except RasterioIOError as e:
        raise SourceError(describe_read_failure(str(path), e).replace("cannot read", "cannot open", 1)) from e


def _describe(ds: rasterio.DatasetReader, path: str, year: int | None) -> RasterFile:
    if ds.crs is None:
        raise SourceError(f"{path} has no coordinate reference system")
    t = ds.transform
    if t.b != 0 or t.d != 0 or abs(abs(t.a) - abs(t.e)) > 1e-9 * abs(t.a):
        raise SourceError(f"{path} is rotated or has non-square pixels; warp it to a north-up grid first")
    dtype = np.dtype(ds.dtypes[0])
    if dtype == np.int8:
        encoding = "int8"
        nodata = float(NODATA_INT8)
    elif dtype in (np.float32, np.float64):
        encoding = "float"
        nodata = ds.nodata
    else:
        raise SourceError(
            f"{path} holds {dtype} pixels; AEF embeddings are int8 (the public COG release) or float32/float64 "
            "(Earth Engine exports)"
        )
    return RasterFile(
        path=path,
        crs=ds.crs,
        transform=t,
        width=ds.width,
        height=ds.height,
        encoding=encoding,
        band_indexes=_band_order(ds, path),
        nodata=nodata,
        block=_tile_size(ds),
        overview_factors=tuple(ds.overviews(1)),
        year=year if year is not None else _year_of(ds, path),
    )


def _tile_size(ds: rasterio.DatasetReader) -> int:
    """Side of the file's square tiles, 0 for strips."""
    rows, cols = ds.block_shapes[0]
    return int(rows) if rows == cols and rows > 1 else 0


def _band_order(ds: rasterio.DatasetReader, path: str) -> tuple[int, ...]:
    """File band of each of A00..A63, by band name when the file names its bands."""
    if ds.count != N_BANDS:
        raise SourceError(f"{path} has {ds.count} bands; AEF embeddings have {N_BANDS} (A00..A63)")
    names = [(d or "").strip().upper() for d in ds.descriptions]
    if sorted(names) == list(BAND_NAMES):
        return tuple(names.index(b) + 1 for b in BAND_NAMES)
    if not any(names):
        return tuple(range(1, N_BANDS + 1))
    problems = []
    unknown = sorted({n for n in names if n and n not in BAND_NAMES})
    if unknown:
        problems.append(f"names not in A00..A63: {_few(unknown)}")
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if repeated:
        problems.append(f"{_few(repeated)} named more than once")
    unnamed = names.count("")
    if unnamed:
        problems.append(f"{unnamed} band{'s have' if unnamed > 1 else ' has'} no name")
    missing = [b for b in BAND_NAMES if b not in names]
    if missing:
        problems.append(f"no band named {_few(missing)}")
    raise SourceError(
        f"{path} names its bands in a way that cannot be matched to A00..A63 ({'; '.join(problems)}); each of "
        "A00..A63 must be named exactly once, or no band named at all (then the bands are taken in order)"
    )


def _few(names: list[str], n: int = 4) -> str:
    shown = ", ".join(names[:n])
    return shown if len(names) <= n else f"{shown} and {len(names) - n} more"


def _year_of(ds: rasterio.DatasetReader, path: str) -> int | None:
    """The year from a YEAR tag, else the last 20xx in the file name, else in its folders."""
    tag = ds.tags().get("YEAR")
    if tag and tag.strip().isdigit():
        return int(tag)
    name = os.path.basename(path.rstrip("/"))
    for text in (name, path):
        found = _YEAR_IN_NAME.findall(text)
        if found:
            return int(found[-1])
    return None
