"""What one GeoTIFF of embeddings is: encoding, band order, grid, orientation, year.

Two encodings exist in the wild: the int8 Cloud-Optimized GeoTIFF release (nodata -128) and float32/float64
exports from Earth Engine (NaN, infinities or a declared nodata value mark missing pixels). Some mirrors of the
release store rows bottom-up (a positive y pixel size); readers must flip them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError
from rasterio.windows import Window

from ..core.bands import BAND_NAMES, N_BANDS
from ..core.errors import SourceError
from ..core.quantization import NODATA_INT8, dequantize, dequantize_summed
from . import code_store
from .gdal_env import describe_read_failure, gdal_env

_YEAR_IN_NAME = re.compile(r"(?<!\d)(20[1-9]\d)(?!\d)")


@dataclass(frozen=True)
class RasterFile:
    """Metadata of one embeddings GeoTIFF, read once when a source is opened."""

    path: str
    crs: CRS
    transform: Affine
    width: int
    height: int
    encoding: str  # "int8" or "float"
    band_indexes: tuple[int, ...]  # 1-based file band of A00..A63 (of the bands read, for a ``subset``)
    nodata: float | None
    block: int
    overview_factors: tuple[int, ...]
    year: int | None
    band_separate: bool = False  # each band's tiles stored apart (INTERLEAVE=BAND), as the release's are

    @property
    def remote(self) -> bool:
        """Read over the network (a URL or a GDAL network path), where each round trip costs a latency."""
        return "://" in self.path or self.path.startswith(("/vsicurl", "/vsis3", "/vsigs", "/vsiaz", "/vsihttp"))

    def subset(self, bands: Sequence[int] | None) -> RasterFile:
        """This file reading only ``bands`` (0-based indexes of A00..A63, in that order); itself for None.

        On a band-separate file (INTERLEAVE=BAND, as the release is) only those bands' tiles are fetched and
        decoded: three of 64 for an RGB composite.
        """
        if bands is None:
            return self
        if len(self.band_indexes) != N_BANDS:
            raise ValueError("a band subset is taken of the file's 64 bands")
        return replace(self, band_indexes=tuple(self.band_indexes[b] for b in bands))

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
        """Band-first file values (bands, rows, cols) to float32 (rows, cols, bands) values and a validity mask.

        A pixel is valid when none of its bands is nodata and not all of them are zero; for a band ``subset``
        that is judged on the bands read (the release writes nodata to every band of a missing pixel).
        """
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
        """Read a window into ``out``, a C-contiguous float32 (rows, cols, bands) array; return the validity mask.

        The same values and mask as ``decode`` (for files where ``reads_pixel_first``), in one pass instead of
        four: GDAL converts and interleaves while it copies out of its tiles, so no band-first copy, transpose or
        float64 array is ever made. ``out`` may have fewer rows and columns than the window (overview reads).
        """
        if not out.flags.c_contiguous or out.dtype != np.float32:
            raise ValueError("read_vectors needs a C-contiguous float32 buffer")
        bands = np.moveaxis(out, -1, 0)  # a band-first view of the pixel-first buffer: GDAL honours the strides
        if self.encoding == "int8":
            codes = self._window_codes(ds, window, out.shape)
            flat = out.reshape(-1, out.shape[-1])
            totals = dequantize_summed(codes.reshape(flat.shape), flat)  # nodata -> NaN
            return finish_vectors(flat, totals).reshape(out.shape[:2])
        elif out.shape[:2] == (window.height, window.width):
            _read_float_interleaved(ds, self.band_indexes, window, out, self.block)
        else:
            ds.read(self.band_indexes, window=window, out=bands, resampling=Resampling.nearest)
        return finish_vectors(out.reshape(-1, out.shape[-1])).reshape(out.shape[:2])

    def _window_codes(self, ds: rasterio.DatasetReader, window: Window, shape: tuple[int, int, int]) -> np.ndarray:
        """Pixel-first int8 codes (rows, cols, bands) of a window read to ``shape``, kept in ``code_store`` for a
        local file (a view's products read the same window again), read-only then."""
        version = None if self.remote else code_store.file_version(self.path)
        # the dataset's size tells its overview level apart; the bands read are part of what was read
        key = ("window", self.path, version, ds.width, ds.height, tuple(window.flatten()), shape, self.band_indexes)
        codes = code_store.get(key) if version is not None else None
        if codes is None:
            codes = np.empty(shape, dtype=np.int8)
            ds.read(self.band_indexes, window=window, out=np.moveaxis(codes, -1, 0), resampling=Resampling.nearest)
            if version is not None and codes.nbytes <= code_store.MAX_BYTES // 2:
                code_store.keep(key, codes)
        return codes


#: Most bytes of one band-first piece of a float file read before it is interleaved into pixel-first vectors.
_PIECE_BYTES = 16 * 2**20


def _read_float_interleaved(
    ds: rasterio.DatasetReader, band_indexes: tuple[int, ...], window: Window, out: np.ndarray, block: int
) -> None:
    """Read a float window into pixel-first ``out`` band by band, a tile-aligned piece at a time.

    GDAL asked for pixel-first float32 writes every value of a band to its own cache line, so a float64 file's
    chunk went through memory 16 times over; that cost 1.2 CPU s/Mpx on an AMD family 25 machine, against 0.5 for
    reading band-first and transposing here (measured with one GDAL thread; decoding alone is 0.3-0.5). Pieces
    span whole tiles so each tile is decoded once, and the band stride is padded because a power-of-two stride
    makes the transpose hit one cache set 64 times (measured 6x slower).
    """
    step_rows = block if block else max(1, _PIECE_BYTES // (window.width * N_BANDS * 4))
    step_cols = block * max(1, _PIECE_BYTES // (step_rows * block * N_BANDS * 4)) if block else window.width
    row_cuts = _cuts(window.row_off, window.height, step_rows)
    col_cuts = _cuts(window.col_off, window.width, step_cols)
    largest = max(b - a for a, b in zip(row_cuts, row_cuts[1:])) * max(b - a for a, b in zip(col_cuts, col_cuts[1:]))
    flat = np.empty((N_BANDS, largest + 16), dtype=np.float32)  # 16 floats: successive bands one cache line apart
    for r0, r1 in zip(row_cuts, row_cuts[1:]):
        for c0, c1 in zip(col_cuts, col_cuts[1:]):
            piece = flat[:, : (r1 - r0) * (c1 - c0)].reshape(N_BANDS, r1 - r0, c1 - c0)
            ds.read(band_indexes, window=Window(window.col_off + c0, window.row_off + r0, c1 - c0, r1 - r0), out=piece)
            out[r0:r1, c0:c1] = np.moveaxis(piece, 0, -1)


def _cuts(offset: int, length: int, step: int) -> list[int]:
    """Offsets within ``length`` where the file's ``step``-sized tiles start, with 0 and ``length``."""
    first = -offset % step
    return [0, *range(first or step, length, step), length] if length else [0]


def finish_vectors(values: np.ndarray, totals: np.ndarray | None = None) -> np.ndarray:
    """Validity of (n, bands) float32 vectors (every band finite, not all zero); invalid rows are set to NaN in place.

    One matrix-vector product with ones finds the rows that need a look: a NaN or infinity in any band makes the
    sum non-finite, and only an all-zero row (or an unlucky cancellation) sums to exactly zero. Those few rows are
    then checked band by band, so the result is exact while the common case costs one streaming pass.
    """
    total = totals
    if total is None:  # the row sums, unless the caller computed them already (``dequantize_summed``)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow and inf - inf only mark rows to look at
            total = values @ np.ones(values.shape[1], dtype=np.float32)
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
        band_separate=ds.interleaving is not None and ds.interleaving.name == "band",
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
