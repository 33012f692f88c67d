"""A region written like one file of the public release, with targets planted in it, for the region search workload.

The file follows ``tests/release_real``'s description of the real ones (cited there): 64 int8 bands stored
band-separate in 1024 px ZSTD tiles, BigTIFF, nodata -128, rows bottom-up, overviews of renormalised means down to
1 px. The real release's files are 8192 px, 4 GiB of codes: this writer builds one tile position at a time (its
overviews too, from the codes' sums), so memory stays that of a tile position whatever the side.

The background is the real 96 px AEF raster in flipped copies with a third of the codes moved by one step (as
``tests.release_real.real_like_codes``: realistic compression), its south-east corner sea (nodata). Planted in it
(north first, as a map shows it):

- **targets**: small rectangles (80-200 m, solar arrays or greenhouses) of one kind of place, each pixel the
  target's direction plus noise, so their scores spread over the top and several targets share the top 100; they
  lie in ``TARGET_TILES`` tile positions, as a rare kind of place does;
- **tiny targets**: a few 3 x 3 px patches of the same kind, as alike as the least alike targets, which a coarse
  cell of 8 x 8 px dilutes (the case coarse-to-fine can miss: the workload counts how many each search finds);
- **decoys**: rectangles in every tile position, a blend of the target and the background (cosine about 0.8 to
  the target): similar, not the same.
"""

from __future__ import annotations

import contextlib
import functools
import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import rasterio
import rasterio.shutil
from affine import Affine
from rasterio.crs import CRS
from rasterio.windows import Window

from aef_widgets.core.quantization import DEQUANTIZE_LUT, NODATA_INT8, dequantize, quantize
from aef_widgets.sources.sample import overview_levels

BLOCK = 1024
EPSG = 32616
LEFT, TOP = 500_000.0, 4_880_000.0  # near 44 N, 87 W, as tests/release_real
TARGET_TILES = 4
_ZERO_LUT = np.nan_to_num(DEQUANTIZE_LUT)


@dataclass(frozen=True)
class Planted:
    """A rectangle of planted pixels (rows and columns north first), their direction and noise."""

    kind: str  # "target", "tiny" or "decoy"
    row: int
    col: int
    height: int
    width: int
    noise: float
    blend: float = 1.0  # share of the target direction (decoys mix in the background pixel)


def target_direction(seed: int) -> np.ndarray:
    """A unit direction like no background pixel: a real vector turned by about 45 degrees."""
    from tests.release_data import real_codes

    rng = np.random.default_rng(seed + 7)
    real = dequantize(real_codes()[40, 40]).astype(np.float64)
    turn = rng.normal(size=64)
    turn -= (turn @ real) * real / (real @ real)
    v = real / np.linalg.norm(real) + turn / np.linalg.norm(turn)
    return v / np.linalg.norm(v)


def plan(side: int, seed: int = 0) -> list[Planted]:
    """Where targets, tiny targets and decoys go in a ``side`` px region."""
    rng = np.random.default_rng(seed)
    n = side // BLOCK
    positions = [(r, c) for r in range(n) for c in range(n)]
    chosen = [positions[i] for i in rng.choice(len(positions), min(TARGET_TILES, len(positions)), replace=False)]
    out = []
    for k in range(16):  # targets: four to a tile position, 8-20 px a side
        tr, tc = chosen[k % len(chosen)]
        h, w = (int(x) for x in rng.integers(8, 21, size=2))
        r, c = tr * BLOCK + int(rng.integers(16, BLOCK - 40)), tc * BLOCK + int(rng.integers(16, BLOCK - 40))
        out.append(Planted("target", r, c, h, w, float(rng.uniform(0.25, 0.45))))
    for _k in range(4):  # tiny targets anywhere
        r, c = (int(x) for x in rng.integers(8, side - 8, size=2))
        out.append(Planted("tiny", r, c, 3, 3, 0.45))
    for tr, tc in positions:  # decoys: three in every tile position
        for _k in range(3):
            h, w = (int(x) for x in rng.integers(10, 40, size=2))
            r, c = tr * BLOCK + int(rng.integers(0, BLOCK - 40)), tc * BLOCK + int(rng.integers(0, BLOCK - 40))
            out.append(Planted("decoy", r, c, h, w, 0.2, blend=0.45))
    return out


def block_codes(side: int, bi: int, bj: int, planted: list[Planted], direction: np.ndarray, seed: int) -> np.ndarray:
    """Codes (1024, 1024, 64) of tile position (bi, bj), north first: background with the planted pixels."""
    block_seed = seed * 1000 + bi * 64 + bj
    codes = _flipped_copies(block_seed)
    rng = np.random.default_rng(block_seed + 100)  # a third of the codes moved by one step, as real_like_codes
    step = (rng.random(codes.shape) < 0.3).astype(np.int8) * rng.choice(np.array([-1, 1], np.int8), codes.shape)
    codes = np.clip(codes.astype(np.int16) + step, -127, 127).astype(np.int8)
    rows, cols = np.ogrid[bi * BLOCK : (bi + 1) * BLOCK, bj * BLOCK : (bj + 1) * BLOCK]
    codes[(rows + cols) > 1.8 * side] = NODATA_INT8  # the south-east corner is sea, in every band at once
    top, left = bi * BLOCK, bj * BLOCK
    for p in planted:
        r0, r1 = max(p.row, top), min(p.row + p.height, top + BLOCK)
        c0, c1 = max(p.col, left), min(p.col + p.width, left + BLOCK)
        if r0 >= r1 or c0 >= c1:
            continue
        where = (slice(r0 - top, r1 - top), slice(c0 - left, c1 - left))
        background = dequantize(codes[where]).astype(np.float64)
        background /= np.linalg.norm(background, axis=-1, keepdims=True)
        v = p.blend * direction + (1 - p.blend) * background
        v = v / np.linalg.norm(v, axis=-1, keepdims=True) + rng.normal(scale=p.noise / 8, size=v.shape)
        codes[where] = quantize((v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32))
    return codes


@functools.lru_cache(maxsize=1)
def _real() -> np.ndarray:
    from tests.release_data import real_codes

    return real_codes()


def _flipped_copies(seed: int) -> np.ndarray:
    """A tile position of real vectors: 96 px blocks of the real raster, each flipped at random (as
    ``tests.release_data.tile_codes``, the raster read once)."""
    real = _real()
    rng = np.random.default_rng(seed)
    out = np.empty((BLOCK, BLOCK, 64), dtype=np.int8)
    for r in range(0, BLOCK, 96):
        for c in range(0, BLOCK, 96):
            block = real[:: rng.choice([1, -1]), :: rng.choice([1, -1])]
            h, w = min(96, BLOCK - r), min(96, BLOCK - c)
            out[r : r + h, c : c + w] = block[:h, :w]
    return out


def write_region(path: Path, side: int, seed: int = 0) -> dict:
    """Write the region (``side`` px, a multiple of 1024) as the release stores a file; returns its description."""
    planted = plan(side, seed)
    direction = target_direction(seed)
    n = side // BLOCK
    rows_bottom_up = Affine(10, 0, LEFT, 0, 10, TOP - 10 * side)
    options = {"TILED": "YES", "BLOCKXSIZE": BLOCK, "BLOCKYSIZE": BLOCK, "INTERLEAVE": "BAND", "BIGTIFF": "YES"}
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        folder = Path(tmp)
        factors = [2**k for k in range(1, side.bit_length())]  # 2 .. side: down to 1 px
        level_paths = [folder / "level0.tif", *(folder / f"level{f}.tif" for f in factors)]
        sums = np.zeros((n, n, 64), dtype=np.float64)  # per tile position, for the levels coarser than a tile
        counts = np.zeros((n, n), dtype=np.int64)
        with contextlib.ExitStack() as stack:
            levels = []
            for f, lp in zip([1, *factors], level_paths):
                size = max(1, side // f)
                profile = {"driver": "GTiff", "width": size, "height": size, "count": 64, "dtype": "int8",
                           "crs": f"EPSG:{EPSG}", "transform": rows_bottom_up @ Affine.scale(f),
                           "nodata": -128}  # fmt: skip
                # each tile position writes whole tiles of every level (no read-modify-write of dirty blocks)
                piece = BLOCK // f
                if f == 1:
                    extra = options  # uncompressed: the copy below compresses once
                elif piece >= 16:
                    extra = {"TILED": "YES", "BLOCKXSIZE": piece, "BLOCKYSIZE": piece, "INTERLEAVE": "BAND"}
                else:
                    extra = {"INTERLEAVE": "BAND"}
                levels.append(stack.enter_context(rasterio.open(lp, "w", **profile, **extra)))
            for bi in range(n):
                for bj in range(n):
                    stored = block_codes(side, bi, bj, planted, direction, seed)[::-1]  # bottom-up rows
                    sr = n - 1 - bi  # the stored (bottom-up) block row
                    levels[0].write(np.moveaxis(stored, -1, 0), window=Window(bj * BLOCK, sr * BLOCK, BLOCK, BLOCK))
                    for f, level in zip(factors, overview_levels(np.ascontiguousarray(stored), min_size=1)):
                        s = BLOCK // f
                        levels[factors.index(f) + 1].write(np.moveaxis(level, -1, 0),
                                                           window=Window(bj * s, sr * s, s, s))  # fmt: skip
                    valid = stored[..., 0] != NODATA_INT8
                    sums[sr, bj] = _ZERO_LUT[stored.view(np.uint8)[valid]].sum(axis=0)
                    counts[sr, bj] = int(valid.sum())
            for f in (f for f in factors if f > BLOCK):  # levels coarser than a tile position: from the sums
                k = f // BLOCK
                total = sums.reshape(n // k, k, n // k, k, 64).sum(axis=(1, 3))
                count = counts.reshape(n // k, k, n // k, k).sum(axis=(1, 3))
                norm = np.linalg.norm(total, axis=-1, keepdims=True)
                q = quantize((total / np.maximum(norm, 1e-12)).astype(np.float32))
                q[count == 0] = NODATA_INT8
                levels[factors.index(f) + 1].write(np.moveaxis(q, -1, 0))
        _copy_with_overviews(level_paths, path, side, rows_bottom_up)
    return {"side": side, "seed": seed, "direction": direction.tolist(), "planted": [asdict(p) for p in planted]}


def _copy_with_overviews(level_paths: list[Path], path: Path, side: int, transform: Affine) -> None:
    """The levels as one file: a VRT declares levels 1.. the overviews of level 0, copied as they are."""
    bands = []
    for b in range(1, 65):
        src = [f"<SourceFilename>{escape(str(p))}</SourceFilename><SourceBand>{b}</SourceBand>" for p in level_paths]
        bands.append(
            f'<VRTRasterBand dataType="Int8" band="{b}"><Description>A{b - 1:02d}</Description>'
            f"<NoDataValue>-128</NoDataValue><SimpleSource>{src[0]}</SimpleSource>"
            + "".join(f"<Overview>{s}</Overview>" for s in src[1:])
            + "</VRTRasterBand>"
        )
    vrt_path = path.with_suffix(".vrt")
    vrt_path.write_text(
        f'<VRTDataset rasterXSize="{side}" rasterYSize="{side}"><SRS>'
        f"{escape(CRS.from_epsg(EPSG).to_wkt())}</SRS><GeoTransform>"
        f"{', '.join(map(repr, transform.to_gdal()))}</GeoTransform>{''.join(bands)}</VRTDataset>"
    )
    options = {"TILED": "YES", "BLOCKXSIZE": BLOCK, "BLOCKYSIZE": BLOCK, "INTERLEAVE": "BAND", "COMPRESS": "ZSTD",
               "ZSTD_LEVEL": 3, "BIGTIFF": "YES", "NUM_THREADS": "ALL_CPUS"}  # fmt: skip
    try:
        rasterio.shutil.copy(vrt_path, path, driver="GTiff", COPY_SRC_OVERVIEWS="YES", **options)
    finally:
        vrt_path.unlink(missing_ok=True)


def cached_region(folder: Path, side: int, seed: int = 0) -> tuple[Path, dict]:
    """The region file in ``folder`` with its description, written unless a previous run left the same one."""
    folder.mkdir(parents=True, exist_ok=True)
    path, meta = folder / f"region_{side}_{seed}.tif", folder / f"region_{side}_{seed}.json"
    if path.is_file() and meta.is_file():
        return path, json.loads(meta.read_text())
    description = write_region(path, side, seed)
    meta.write_text(json.dumps(description))
    return path, description
