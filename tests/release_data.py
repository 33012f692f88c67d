"""A miniature of the public COG release, built from the real AEF raster, in either mirror's layout.

Tiles are int8 COGs with renormalised-mean overviews (the package's one writer), filled with the real 96 x 96 px
vectors in flipped copies so every block differs. Two tiles of 2024 sit on either side of the UTM 16N/17N
boundary (-84 degrees) and overlap across it; 2023 has the western one only. The index is a Parquet file in the
published layout (fid, path, year, utm_zone, crs, wgs84_*, utm_*), its paths pointing at the real mirror as the
published ones do.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import rasterio
import rasterio.shutil
from affine import Affine
from pyproj import Transformer

from aef_widgets.core.grid import LONLAT, transform_bounds
from aef_widgets.sources.sample import write_embedding_cog
from tests.conftest import REAL_INT8

BOUNDARY_LAT = 44.0
INDEX_COLUMNS = (
    "fid", "path", "year", "utm_zone", "crs", "wgs84_west", "wgs84_south", "wgs84_east", "wgs84_north",
    "utm_west", "utm_south", "utm_east", "utm_north",
)  # fmt: skip
LAYOUTS = {
    # where the files live under the served folder, and how the published index spells their paths
    "gcs": ("satellite_embedding/v1/annual", "gs://alphaearth_foundations/satellite_embedding/v1/annual"),
    "source-coop": ("tge-labs/aef/v1/annual", "s3://us-west-2.opendata.source.coop/tge-labs/aef/v1/annual"),
}


@dataclass(frozen=True)
class TileInfo:
    name: str
    year: int
    zone: str
    crs: str
    transform: Affine  # top-down
    codes: np.ndarray  # (rows, cols, 64) int8, top row first
    relpath: str  # under the annual folder: <year>/<zone>/<name>.tiff


def real_codes() -> np.ndarray:
    with rasterio.open(REAL_INT8) as ds:
        return np.moveaxis(ds.read(), 0, -1)


def tile_codes(size: int, seed: int) -> np.ndarray:
    """``size`` x ``size`` px of real vectors: 96 px blocks of the real raster, each flipped at random."""
    real = real_codes()
    rng = np.random.default_rng(seed)
    out = np.empty((size, size, 64), dtype=np.int8)
    for r in range(0, size, 96):
        for c in range(0, size, 96):
            block = real[:: rng.choice([1, -1]), :: rng.choice([1, -1])]
            h, w = min(96, size - r), min(96, size - c)
            out[r : r + h, c : c + w] = block[:h, :w]
    return out


def tiles(size: int = 512) -> list[TileInfo]:
    """The tiles of the miniature release (2024 both sides of the zone boundary, 2023 the west side only)."""
    out = []
    # the western tile reaches 40% of its width east of the boundary, the eastern one starts 20% west of it
    for i, (year, zone, epsg, west_part) in enumerate([(2024, "16N", 32616, 0.6), (2024, "17N", 32617, 0.2),
                                                        (2023, "16N", 32616, 0.6)]):  # fmt: skip
        x, y = Transformer.from_crs(LONLAT, f"EPSG:{epsg}", always_xy=True).transform(-84.0, BOUNDARY_LAT)
        span = size * 10
        left = round((x - span * west_part) / 10) * 10
        top = round((y + span / 2) / 10) * 10
        name = f"x{left}_y{top}_{i}"
        transform = Affine(10, 0, left, 0, -10, top)
        relpath = f"{year}/{zone}/{name}.tiff"
        out.append(TileInfo(name, year, zone, f"EPSG:{epsg}", transform, tile_codes(size, seed=i), relpath))
    return out


def build_release(root: Path, layout: str, infos: list[TileInfo]) -> Path:
    """Write the tiles and the index under ``root`` in a mirror's layout; return the folder holding ``v1/annual``."""
    folder, published = LAYOUTS[layout]
    annual = root / folder
    rows = []
    for fid, t in enumerate(infos):
        path = annual / t.relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        if layout == "gcs":
            write_embedding_cog(path, t.codes, t.crs, t.transform, {"YEAR": str(t.year)})
        else:
            write_bottom_up(path, t)
        bounds = (t.transform.c, t.transform.f - 10 * t.codes.shape[0], t.transform.c + 10 * t.codes.shape[1],
                  t.transform.f)  # fmt: skip
        west, south, east, north = transform_bounds(bounds, t.crs, LONLAT)
        rows.append((fid, f"{published}/{t.relpath}", t.year, t.zone, t.crs, west, south, east, north, *bounds))
    write_index(annual / "aef_index.parquet", rows)
    return annual.parent.parent


def write_index(path: Path, rows: list[tuple], columns: tuple[str, ...] = INDEX_COLUMNS) -> Path:
    table = pa.table({c: [r[INDEX_COLUMNS.index(c)] for r in rows] for c in columns})
    pq.write_table(table, path)
    return path


def write_bottom_up(path: Path, t: TileInfo) -> None:
    """The tile as Source Cooperative stores it: rows bottom-up (positive y pixel size), a ``.vrt`` beside it.

    Overviews of the flipped codes are the flipped overviews (tile sides are powers of two, and a renormalised
    mean does not depend on the order of its pixels), so the writer that makes the top-down files serves here too.
    """
    rows = t.codes.shape[0]
    bottom = t.transform.f - 10 * rows
    flipped = Affine(10, 0, t.transform.c, 0, 10, bottom)
    write_embedding_cog(path, t.codes[::-1].copy(), t.crs, flipped, {"YEAR": str(t.year)})
    rasterio.shutil.copy(path, path.with_suffix(".vrt"), driver="VRT")


def tile_byte_ranges(path: Path) -> tuple[list[int], list[int]]:
    """(offsets, byte counts) of the tiles of a TIFF's first image, read from its header with ``struct``.

    An independent account of what the full-resolution blocks weigh on disk, to compare what a reader fetched with.
    """
    with open(path, "rb") as f:
        head = f.read(16)
        order = "<" if head[:2] == b"II" else ">"
        big = struct.unpack(order + "H", head[2:4])[0] == 43
        f.seek(struct.unpack(order + "Q", head[8:16])[0] if big else struct.unpack(order + "I", head[4:8])[0])
        count_fmt, entry_size = ("Q", 20) if big else ("H", 12)
        n = struct.unpack(order + count_fmt, f.read(8 if big else 2))[0]
        entries = f.read(n * entry_size)
        tags = {}
        for i in range(n):
            e = entries[i * entry_size : (i + 1) * entry_size]
            tag, kind = struct.unpack(order + "HH", e[:4])
            count = struct.unpack(order + ("Q" if big else "I"), e[4:12] if big else e[4:8])[0]
            value = e[12:20] if big else e[8:12]
            tags[tag] = (kind, count, value)

        def values(tag: int) -> list[int]:
            kind, count, value = tags[tag]
            fmt = {3: "H", 4: "I", 16: "Q"}[kind]
            size = struct.calcsize(fmt) * count
            if size <= len(value):
                raw = value[:size]
            else:
                f.seek(struct.unpack(order + ("Q" if big else "I"), value)[0])
                raw = f.read(size)
            return list(struct.unpack(order + fmt * count, raw))

        return values(324), values(325)  # TileOffsets, TileByteCounts
