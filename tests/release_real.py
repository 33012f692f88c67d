"""Files built like the real release's, on loopback in either mirror's layout, with every form of its index.

What independent readers of the real files report (cited, since the tests cannot see them):
- each 8192 x 8192 px file stores 64 int8 bands band-separate (PLANARCONFIG=SEPARATE, GDAL's INTERLEAVE=BAND) in
  1024 x 1024 px ZSTD tiles, BigTIFF, nodata -128, overviews down to 1 px: the GeoLibre plugin's AEF module ("64
  signed 8-bit bands, NoData -128, band-separate, ZSTD-compressed, 1024 px internal tiles, full overviews"), and
  developmentseed/geotiff-test-data ``real_data/source-coop-alpha-earth/xjejfvrbm1fbu1ecw-...`` (INTERLEAVE BAND,
  EPSG:326xx, resolution (10, 10): a positive y pixel size);
- rows are stored bottom-up (row 0 is the southern edge), on both mirrors: GeoLibre's reader flips rows,
  developmentseed/deck.gl-raster issue 303 ("the raw AEF GeoTIFFs were exported upside down"), GDAL issue 13416;
- Earth Engine writes the geotransform as a ModelTransformationTag (developmentseed/async-tiff issue 117, an AEF
  export); GDAL writes that tag, not ModelPixelScale, for a positive y pixel size, so our files carry it too;
- the Source Cooperative STAC index ``aef_index_stac_geoparquet.parquet`` has ``bbox`` (a struct xmin, ymin, xmax,
  ymax), ``datetime`` (1 January of the year, UTC), ``assets.data.href`` (an ``s3://us-west-2.opendata.source.coop``
  URL) and ``proj:epsg`` (GeoLibre's reader, which reads exactly those).
The codes are the real 96 x 96 px AEF raster in flipped copies, with a third of the codes moved by one step so that
ZSTD cannot find the copies again: a band of a 1024 px tile then weighs about 0.6 MB, as the real ones do (a plain
repeat compresses 20 times better than the real data). A corner is nodata (sea). Files are 2048 px (2 x 2 tiles),
not 8192, to keep the suite quick; the block size, band layout, compression and orientation are the real ones.
"""

from __future__ import annotations

import contextlib
import datetime
import shutil
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import rasterio
import rasterio.shutil
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.io import MemoryFile

from aef_widgets.core.grid import LONLAT, transform_bounds
from aef_widgets.sources.sample import overview_levels
from tests.release_data import INDEX_COLUMNS, LAYOUTS, tile_codes, write_index

SIZE = 2048
BLOCK = 1024
ZONE, EPSG = "16N", 32616
LEFT, TOP = 500_000.0, 4_880_000.0  # near 44 N, 87 W
#: Creation options of the real files (the ZSTD level is not published; 3 gives their ~0.6 MB per band tile).
REAL_OPTIONS = {
    "TILED": "YES", "BLOCKXSIZE": BLOCK, "BLOCKYSIZE": BLOCK, "INTERLEAVE": "BAND", "COMPRESS": "ZSTD",
    "ZSTD_LEVEL": 3, "BIGTIFF": "YES", "NUM_THREADS": "ALL_CPUS",
}  # fmt: skip


@dataclass(frozen=True)
class RealFile:
    """One file of the realistic release: its codes top row (north) first, and where it lies."""

    name: str
    year: int
    crs: str
    transform: Affine  # top-down, as the codes are held
    codes: np.ndarray  # (rows, cols, 64) int8, north first
    relpath: str


def real_like_codes(size: int = SIZE, seed: int = 0) -> np.ndarray:
    """Real vectors, a third of their codes moved by one step (realistic compression), the south-east corner sea."""
    codes = tile_codes(size, seed)
    rng = np.random.default_rng(seed + 100)
    # the same draws as one `rng.random(codes.shape)` then one `rng.choice(..., codes.shape)`, taken a few rows at a
    # time: whole, they were 2 GB of doubles and 2 GB of indices, and the kernel's zeroing of those pages cost 7 of
    # the 9 s this took (8 rows keep each draw under glibc's 32 MB mmap threshold, so its memory is reused)
    moved = np.empty(codes.shape, dtype=bool)
    for r in range(0, size, 8):
        moved[r : r + 8] = rng.random(codes[r : r + 8].shape) < 0.3
    for r in range(0, size, 8):
        part = codes[r : r + 8]
        step = rng.choice(np.array([-1, 1], np.int8), part.shape) * moved[r : r + 8]
        part[...] = np.clip(part.astype(np.int16) + step, -127, 127)
    rows, cols = np.ogrid[:size, :size]
    codes[(rows + cols) > 1.6 * size] = -128  # nodata in every band at once, as the release has it
    return codes


def real_file(size: int = SIZE, year: int = 2024, seed: int = 0, codes: np.ndarray | None = None) -> RealFile:
    """The realistic file of ``seed``; ``codes`` are its ``real_like_codes(size, seed)`` when already made."""
    name = f"xrealistic{seed}-0000000000-0000000000"
    transform = Affine(10, 0, LEFT, 0, -10, TOP)
    codes = real_like_codes(size, seed) if codes is None else codes
    return RealFile(name, year, f"EPSG:{EPSG}", transform, codes, f"{year}/{ZONE}/{name}.tiff")


def write_real_tiff(path: Path, f: RealFile, bottom_up: bool = True, headers_first: bool = True) -> None:
    """``f`` as the release stores it: band-separate 1024 px ZSTD tiles, BigTIFF, renormalised-mean overviews to
    1 px, rows bottom-up (positive y pixel size). ``headers_first=False`` appends the overviews after the image
    (GDAL's own overviews, nearest), so their headers are not at the front: a reader must fetch them later."""
    rows = f.codes.shape[0]
    stored = f.codes[::-1] if bottom_up else f.codes
    transform = Affine(10, 0, f.transform.c, 0, 10, f.transform.f - 10 * rows) if bottom_up else f.transform
    if not headers_first:
        profile = {"driver": "GTiff", "width": stored.shape[1], "height": rows, "count": 64, "dtype": "int8"}
        with rasterio.open(path, "w", crs=f.crs, transform=transform, nodata=-128, **profile, **REAL_OPTIONS) as ds:
            ds.write(np.moveaxis(stored, -1, 0))
        with rasterio.open(path, "r+") as ds:
            ds.build_overviews([2**k for k in range(1, int(np.log2(rows)) + 1)], Resampling.nearest)
        return
    levels = [np.ascontiguousarray(stored), *overview_levels(np.ascontiguousarray(stored), min_size=1)]
    with contextlib.ExitStack() as stack:
        names = []
        for level in levels:
            mem = stack.enter_context(MemoryFile(filename=f"level{len(names)}.tif"))
            scaled = transform @ Affine.scale(rows / level.shape[0])
            shape = {"width": level.shape[1], "height": level.shape[0], "count": 64, "dtype": "int8"}
            with mem.open(driver="GTiff", crs=f.crs, transform=scaled, **shape) as ds:
                ds.write(np.moveaxis(level, -1, 0))
            names.append(mem.name)
        bands = []
        for b in range(1, 65):
            src = [f"<SourceFilename>{n}</SourceFilename><SourceBand>{b}</SourceBand>" for n in names]
            bands.append(
                f'<VRTRasterBand dataType="Int8" band="{b}"><Description>A{b - 1:02d}</Description>'
                f"<NoDataValue>-128</NoDataValue><SimpleSource>{src[0]}</SimpleSource>"
                + "".join(f"<Overview>{s}</Overview>" for s in src[1:])
                + "</VRTRasterBand>"
            )
        vrt = (
            f'<VRTDataset rasterXSize="{stored.shape[1]}" rasterYSize="{rows}"><SRS>'
            f"{escape(CRS.from_user_input(f.crs).to_wkt())}</SRS><GeoTransform>"
            f"{', '.join(map(repr, transform.to_gdal()))}</GeoTransform>{''.join(bands)}</VRTDataset>"
        )
        source = stack.enter_context(MemoryFile(vrt.encode(), filename="release.vrt"))
        # COPY_SRC_OVERVIEWS puts every header first, then the smallest overview's tiles up to the full image: COG
        rasterio.shutil.copy(source.name, path, driver="GTiff", COPY_SRC_OVERVIEWS="YES", **REAL_OPTIONS)


def build_real_release(root: Path, layout: str, files: list[RealFile], built: dict[str, Path] | None = None) -> Path:
    """The files (bottom-up, as both mirrors hold them) and every index form under ``root``; returns the folder
    holding ``v1/annual``. ``built`` maps names to files already written, which are copied, not rewritten."""
    folder, published = LAYOUTS[layout]
    annual = root / folder
    rows = []
    for fid, f in enumerate(files):
        path = annual / f.relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        if built and f.name in built:
            shutil.copyfile(built[f.name], path)
        else:
            write_real_tiff(path, f)
        if layout == "source-coop":  # Source Cooperative puts a .vrt beside each file
            rasterio.shutil.copy(path, path.with_suffix(".vrt"), driver="VRT")
        n = f.codes.shape[0]
        bounds = (f.transform.c, f.transform.f - 10 * n, f.transform.c + 10 * n, f.transform.f)
        west, south, east, north = transform_bounds(bounds, f.crs, LONLAT)
        zone = f.relpath.split("/")[1]
        rows.append((fid, f"{published}/{f.relpath}", f.year, zone, f.crs, west, south, east, north, *bounds))
    write_index(annual / "aef_index.parquet", rows)
    write_binary_path_index(annual / "aef_index_binary_path.parquet", rows)
    write_stac_index(annual / "aef_index_stac_geoparquet.parquet", rows)
    return annual.parent.parent


def write_binary_path_index(path: Path, rows: list[tuple]) -> Path:
    """The published columns with ``path`` as Parquet binary, as some readers see the real index's."""
    table = pa.table({c: [r[INDEX_COLUMNS.index(c)] for r in rows] for c in INDEX_COLUMNS})
    binary = pa.array([r[1].encode() for r in rows], type=pa.binary())
    pq.write_table(table.set_column(1, "path", binary), path)
    return path


def write_stac_index(path: Path, rows: list[tuple]) -> Path:
    """The STAC GeoParquet index's columns readers use: bbox, datetime, assets.data.href (s3://), proj:epsg."""
    coop = LAYOUTS["source-coop"][1]
    hrefs = [f"{coop}/{r[1].split('v1/annual/', 1)[1]}" for r in rows]
    bbox = pa.array([{"xmin": r[5], "ymin": r[6], "xmax": r[7], "ymax": r[8]} for r in rows])
    table = pa.table({
        "id": [h.rsplit("/", 1)[1].rsplit(".", 1)[0] for h in hrefs],
        "bbox": bbox,
        "datetime": pa.array([datetime.datetime(r[2], 1, 1, tzinfo=datetime.timezone.utc) for r in rows],
                             pa.timestamp("us", tz="UTC")),
        "assets": pa.array([{"data": {"href": h, "type": "image/tiff; application=geotiff"}} for h in hrefs]),
        "proj:epsg": pa.array([int(r[4].split(":")[1]) for r in rows], pa.int64()),
    })  # fmt: skip
    pq.write_table(table, path)
    return path
