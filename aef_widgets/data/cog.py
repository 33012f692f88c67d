"""Files written like the public release: int8 embedding COGs whose overviews are renormalised means (GDAL can
only average codes, which is wrong for this encoding), and single-band uint8 rasters of truth.

Used by the synthetic sample and by tests and benchmarks that need release-shaped files."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import rasterio
import rasterio.shutil
from affine import Affine
from rasterio.crs import CRS
from rasterio.io import MemoryFile

from ..core.bands import BAND_NAMES, N_BANDS
from ..core.quantization import DEQUANTIZE_LUT, NODATA_INT8, quantize
from .truth import LABEL_NODATA

# Horizontal differencing shrinks smooth embeddings by a third. ZSTD, as the public release is written: at level 1 a
# sample year decodes in 0.24 CPU s against DEFLATE's 0.53 (level 1 too), and is 9% smaller (47 MB); levels 3 and 9
# were no smaller and decoded slower here (0.31, 0.39; AMD family 25, one GDAL thread, 2026-12-07).
_COG_OPTIONS = {"predictor": 2, "level": 1, "blocksize": 256, "num_threads": "ALL_CPUS"}
_ZERO_LUT = np.nan_to_num(DEQUANTIZE_LUT)  # nodata as a zero vector, which adds nothing to a sum
_ROWS = 16  # rows per block when summing, small enough to stay in cache


def overview_levels(codes: np.ndarray, min_size: int = 64) -> list[np.ndarray]:
    """Overviews at factors 2, 4, 8, ... of int8 codes (rows, cols, 64), while at least ``min_size`` px.

    Each overview pixel is the renormalised mean of the valid full-resolution vectors of its block, re-quantised;
    nodata where the block has none. The mean's direction is the sum's, so summing blocks level by level is exact.
    """
    rows, cols = codes.shape[:2]
    total = np.empty((rows // 2, cols // 2, N_BANDS), dtype=np.float32)
    for r in range(0, rows, _ROWS):  # by blocks of rows, which stay in cache
        v = _ZERO_LUT[codes[r : r + _ROWS].view(np.uint8)]
        total[r // 2 : (r + _ROWS) // 2] = v[::2, ::2] + v[1::2, ::2] + v[::2, 1::2] + v[1::2, 1::2]
    count = (codes[..., 0] != NODATA_INT8).astype(np.int32)
    count = count[::2, ::2] + count[1::2, ::2] + count[::2, 1::2] + count[1::2, 1::2]
    levels = []
    while True:
        q = np.empty(total.shape, dtype=np.int8)
        for r in range(0, total.shape[0], _ROWS):
            block = total[r : r + _ROWS]
            norm = np.sqrt(np.einsum("ijk,ijk->ij", block, block))[..., None]
            q[r : r + _ROWS] = quantize(block / np.maximum(norm, np.float32(1e-12)))
        q[count == 0] = NODATA_INT8
        levels.append(q)
        if min(count.shape) < 2 * min_size or count.shape[0] % 2 or count.shape[1] % 2:
            return levels
        total = total[::2, ::2] + total[1::2, ::2] + total[::2, 1::2] + total[1::2, 1::2]
        count = count[::2, ::2] + count[1::2, ::2] + count[::2, 1::2] + count[1::2, 1::2]


def write_embedding_cog(
    path: Path, codes: np.ndarray, crs: str, transform: Affine, tags: Mapping[str, str], compress: str = "ZSTD"
) -> None:
    """Write int8 codes (rows, cols, 64) as a COG whose overviews are renormalised means, ``compress``ed (ZSTD, as
    the public release; the benchmarks keep the DEFLATE their recorded numbers were measured on).

    GDAL can only average the int8 codes, which is wrong for this encoding. So each level is written to an
    in-memory GeoTIFF, a VRT declares levels 1.. as the overviews of level 0, and the COG driver copies them as
    they are (OVERVIEWS=FORCE_USE_EXISTING). Any size works: levels are computed on codes padded with nodata to a
    multiple of 64 px, so partial blocks at the right and bottom edges average only their real pixels, then cropped
    to GDAL's overview sizes (ceil(size / factor)).
    """
    rows, cols = codes.shape[:2]
    padded = np.pad(codes, ((0, -rows % 64), (0, -cols % 64), (0, 0)), constant_values=NODATA_INT8)
    levels = [codes]
    for level in overview_levels(padded):
        factor = padded.shape[0] // level.shape[0]
        levels.append(level[: math.ceil(rows / factor), : math.ceil(cols / factor)])
    with contextlib.ExitStack() as stack:
        names = []
        for level in levels:
            mem = stack.enter_context(MemoryFile(filename=f"level{len(names)}.tif"))
            profile = {"width": level.shape[1], "height": level.shape[0], "count": N_BANDS, "dtype": "int8"}
            # georeferenced (or rasterio warns); the VRT, not this transform, places the overview
            scaled = transform @ Affine.scale(cols / level.shape[1], rows / level.shape[0])
            with mem.open(driver="GTiff", crs=crs, transform=scaled, tiled=True, interleave="band", **profile) as ds:
                ds.write(np.moveaxis(level, -1, 0))
            names.append(mem.name)
        bands = []
        for b, band_name in enumerate(BAND_NAMES, start=1):
            sources = [f"<SourceFilename>{n}</SourceFilename><SourceBand>{b}</SourceBand>" for n in names]
            overviews = "".join(f"<Overview>{src}</Overview>" for src in sources[1:])
            bands.append(
                f'<VRTRasterBand dataType="Int8" band="{b}"><Description>{band_name}</Description>'
                f"<NoDataValue>{NODATA_INT8}</NoDataValue><SimpleSource>{sources[0]}</SimpleSource>{overviews}"
                "</VRTRasterBand>"
            )
        metadata = "".join(f"<MDI key={quoteattr(k)}>{escape(v)}</MDI>" for k, v in tags.items())
        vrt = (
            f'<VRTDataset rasterXSize="{cols}" rasterYSize="{rows}"><SRS>{escape(CRS.from_user_input(crs).to_wkt())}'
            f"</SRS><GeoTransform>{', '.join(map(repr, transform.to_gdal()))}</GeoTransform>"
            f"<Metadata>{metadata}</Metadata>{''.join(bands)}</VRTDataset>"
        )
        vrt_file = stack.enter_context(MemoryFile(vrt.encode(), filename="sample.vrt"))
        rasterio.shutil.copy(
            vrt_file.name, path, driver="COG", overviews="FORCE_USE_EXISTING", compress=compress, **_COG_OPTIONS
        )


def write_uint8(path: Path, data: np.ndarray, crs: str, transform: Affine, tags: Mapping[str, str]) -> None:
    """A single-band uint8 GeoTIFF (truth labels or change masks), nodata 255."""
    profile = {"width": data.shape[1], "height": data.shape[0], "count": 1, "dtype": "uint8", "crs": crs}
    with rasterio.open(
        path, "w", driver="GTiff", nodata=LABEL_NODATA, transform=transform, tiled=True, compress="deflate", **profile
    ) as ds:
        ds.write(data, 1)
        ds.update_tags(**tags)
