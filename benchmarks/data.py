"""Deterministic synthetic inputs for the benchmarks, written the way the real files are written.

A scene is a pure function of its shape, AOI and seed: a few class directions (unit vectors sharing a common part,
as real embeddings do), blobby spatially coherent patches of those classes, a smooth texture inside each patch,
white noise, renormalisation to unit length and the int8 quantization of the public release; no data in a wedge at
the south-west corner of the AOI and of the scene (a swath edge) and in one missing tile. The AOI is the scene's
top-left corner. Two encodings of the AOI's pixels are written, and the whole scene as int8 for the scaling runs:

- the int8 Cloud-Optimized GeoTIFF of the public release (overviews of renormalised means, as the bundled sample);
- the float64 GeoTIFF that ``geemap.download_ee_image`` writes through geedim 1.9 (see ``GEEDIM_PROFILE``): every
  value is exactly ``sign(q) * (q / 127.5) ** 2``, as Earth Engine serves it; nodata -inf.

Files are kept in a folder with a key of what they hold, so a run with ``--keep-data`` lets the next one skip
generation (about three minutes for the full suite, most of it deflating the 4.2 GB float64 file as geedim does).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from affine import Affine
from pyproj import Transformer
from rasterio.enums import Resampling
from rasterio.windows import Window
from scipy import ndimage

from aef_widgets.core.bands import BAND_NAMES, N_BANDS
from aef_widgets.core.quantization import NODATA_INT8, quantize
from aef_widgets.sources.sample import write_embedding_cog

#: Bump when the generator changes, so cached files of an older generator are not reused.
DATA_VERSION = 2
SEED = 20250711
EPSG = "EPSG:32616"
ORIGIN = (330000.0, 4930000.0)  # top-left corner, UTM 16N (Wisconsin), 10 m pixels
PIXEL = 10.0
N_CLASSES = 8
_ROWS = 64  # rows generated at a time (64 x 4096 x 64 float32 = 64 MiB)
_BANK = 1 << 14  # noise vectors per class, drawn once and picked per pixel: much cheaper than fresh normals
#: Float64 value of every int8 code (index = code + 128), computed in float64 as Earth Engine serves them.
_Q = np.arange(-128, 128, dtype=np.float64)
FLOAT64_OF_CODE = np.where(_Q == NODATA_INT8, -np.inf, np.sign(_Q) * (_Q / 127.5) ** 2)

#: What geedim 1.9.1 writes for ``download_ee_image`` of double bands (``_prepare_for_download``): GTiff, float64,
#: deflate (no predictor), band interleave, 256 x 256 tiles (GDAL's default), nodata -inf; BIGTIFF at >= 4e9 bytes;
#: internal average overviews compressed with deflate; band descriptions A00..A63.
GEEDIM_PROFILE = {
    "driver": "GTiff",
    "dtype": "float64",
    "nodata": float("-inf"),
    "compress": "deflate",
    "interleave": "band",
    "tiled": True,
    "photometric": "MINISBLACK",
}


@dataclass(frozen=True)
class Scene:
    """Shape, AOI and seed of a synthetic scene; everything else follows from them."""

    height: int
    width: int
    #: (rows, cols) of the AOI at the scene's top-left corner; nodata is placed in it as in the rest.
    aoi: tuple[int, int]
    seed: int = SEED

    @property
    def transform(self) -> Affine:
        return Affine(PIXEL, 0.0, ORIGIN[0], 0.0, -PIXEL, ORIGIN[1])

    @property
    def key(self) -> str:
        return f"v{DATA_VERSION}-{self.width}x{self.height}-aoi{self.aoi[1]}x{self.aoi[0]}-s{self.seed}"


def scene_codes(scene: Scene) -> np.ndarray:
    """int8 codes (rows, cols, 64) of the scene, -128 where there is no data."""
    rng = np.random.default_rng(scene.seed)
    common = _unit(rng.standard_normal(N_BANDS))
    centres = _unit(1.2 * common + _unit(rng.standard_normal((N_CLASSES, N_BANDS))))  # pairwise cosines ~0.6
    texture_dirs = (0.3 / 8 * rng.standard_normal((4, N_BANDS))).astype(np.float32)
    # class centre plus white noise, drawn once per class and picked per pixel: one gather instead of two
    noise = rng.standard_normal((_BANK, N_BANDS)).astype(np.float32) * np.float32(0.012)
    bank = (centres.astype(np.float32)[:, None, :] + noise).reshape(-1, N_BANDS)
    classes = _coarse_field(rng, scene, N_CLASSES, 48)  # patches of a few hundred metres to kilometres
    texture = _coarse_field(rng, scene, 4, 6)
    codes = np.empty((scene.height, scene.width, N_BANDS), dtype=np.int8)
    for r0 in range(0, scene.height, _ROWS):
        rows = np.arange(r0, min(r0 + _ROWS, scene.height))
        labels = _upsample(classes, rows, scene.width, 48).argmax(axis=-1)
        picks = labels * _BANK + rng.integers(0, _BANK, labels.shape)
        v = np.take(bank, picks, axis=0)
        v += _upsample(texture, rows, scene.width, 6) @ texture_dirs
        v /= np.sqrt(np.einsum("ijk,ijk->ij", v, v))[..., None]
        codes[rows[0] : rows[-1] + 1] = quantize(v)
    codes[_nodata(scene)] = NODATA_INT8
    return codes


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _coarse_field(rng: np.random.Generator, scene: Scene, channels: int, step: int) -> np.ndarray:
    """Smooth random fields sampled every ``step`` px (plus a margin), to be interpolated up."""
    shape = (scene.height // step + 3, scene.width // step + 3, channels)
    field = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), (1.0, 1.0, 0))
    return field / field.std()


def _upsample(field: np.ndarray, rows: np.ndarray, width: int, step: int) -> np.ndarray:
    """Bilinear interpolation of a coarse field at full-resolution ``rows`` (all columns)."""
    y = rows / step
    x = np.arange(width) / step
    y0, x0 = y.astype(int), x.astype(int)
    wy, wx = (y - y0).astype(np.float32)[:, None, None], (x - x0).astype(np.float32)[None, :, None]
    top = field[y0][:, x0] * (1 - wx) + field[y0][:, x0 + 1] * wx
    bottom = field[y0 + 1][:, x0] * (1 - wx) + field[y0 + 1][:, x0 + 1] * wx
    return top * (1 - wy) + bottom * wy


def _nodata(scene: Scene) -> np.ndarray:
    """Where the scene has no data: a wedge in the south-west corner of the AOI and of the whole scene (the edge
    of a swath), and one missing 256 px tile inside the AOI."""
    rows, cols = scene.aoi
    rr, cc = np.ogrid[: scene.height, : scene.width]
    missing = (scene.height - 1 - rr) + cc < 0.15 * min(scene.height, scene.width)
    missing |= (rr < rows) & (cc < cols) & ((rows - 1 - rr) + cc < 0.15 * min(rows, cols))
    missing |= (rr // 256 == rows // 512) & (cc // 256 == cols // 512)
    return missing


# --- files ----------------------------------------------------------------------------------------------------------
def write_int8_cog(path: Path, codes: np.ndarray, scene: Scene) -> Path:
    """The public release's encoding: an int8 COG, nodata -128, with renormalised-mean overviews (the sample's
    own writer, ``sample.write_embedding_cog``)."""
    tags = {"YEAR": "2024", "SYNTHETIC": f"aef-widgets benchmark scene {scene.key}"}
    write_embedding_cog(path, codes, EPSG, scene.transform, tags, compress="DEFLATE")  # as the README's table
    return path


def write_geedim_float64(path: Path, codes: np.ndarray, scene: Scene) -> Path:
    """The float64 GeoTIFF geedim 1.9 writes for a double image, written a block row at a time.

    geedim writes with ``GDAL_NUM_THREADS=ALL_CPUS`` and builds internal average overviews at 2, 4, 8, ... while
    the smaller side stays above 256 px; so does this.
    """
    rows, cols = codes.shape[:2]
    profile = dict(GEEDIM_PROFILE, width=cols, height=rows, count=N_BANDS, crs=EPSG, transform=scene.transform)
    if rows * cols * N_BANDS * 8 >= 4e9:
        profile["bigtiff"] = True
    levels = [2**m for m in range(1, min(8, int(math.log2(min(rows, cols))) - 8) + 1)]
    env = rasterio.Env(GDAL_NUM_THREADS="ALL_CPUS", COMPRESS_OVERVIEW="DEFLATE")
    with env, rasterio.open(path, "w", **profile) as ds:
        for window in _block_rows(rows, cols, 256):
            block = codes[window.row_off : window.row_off + window.height]
            ds.write(FLOAT64_OF_CODE[np.moveaxis(block, -1, 0).astype(np.int16) + 128], window=window)
        ds.descriptions = BAND_NAMES
        ds.update_tags(YEAR="2024")
        if levels:
            ds.build_overviews(levels, Resampling.average)
    return path


def _block_rows(rows: int, cols: int, height: int) -> Iterator[Window]:
    for r0 in range(0, rows, height):
        yield Window(0, r0, cols, min(height, rows - r0))


@dataclass(frozen=True)
class Inputs:
    """The generated files of one run: the AOI in both encodings, and a larger int8 scene for scaling."""

    folder: Path
    scene: Scene
    generated_seconds: float

    @property
    def aoi(self) -> tuple[int, int]:
        return self.scene.aoi

    @property
    def aoi_int8(self) -> Path:
        return self.folder / "aoi_int8_2024.tif"

    @property
    def aoi_float64(self) -> Path:
        return self.folder / "aoi_geedim_float64_2024.tif"

    @property
    def scene_int8(self) -> Path:
        return self.folder / "scene_int8_2024.tif"

    def files(self) -> list[Path]:
        return [self.aoi_int8, self.aoi_float64, self.scene_int8]

    def aoi_valid(self) -> np.ndarray:
        """Boolean (rows, cols): where the AOI has data."""
        rows, cols = self.aoi
        return ~_nodata(self.scene)[:rows, :cols]

    def lonlat_of(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """(n, 2) lon/lat of the centres of AOI pixels."""
        xs, ys = self.scene.transform @ (np.asarray(cols) + 0.5, np.asarray(rows) + 0.5)
        lon, lat = Transformer.from_crs(EPSG, "EPSG:4326", always_xy=True).transform(xs, ys)
        return np.column_stack([lon, lat])


def prepare(scene_shape: tuple[int, int], aoi: tuple[int, int], folder: Path) -> Inputs:
    """Generate the inputs into ``folder``, or reuse them if a previous run left the same ones there.

    The AOI is the top-left corner of the scene, so both encodings and every scaling AOI hold the same pixels.
    """
    scene = Scene(*scene_shape, aoi=aoi)
    key = {"scene": scene.key}
    inputs = Inputs(folder, scene, 0.0)
    marker = folder / "inputs.json"
    if marker.is_file() and json.loads(marker.read_text()) == key and all(f.is_file() for f in inputs.files()):
        return inputs
    _check_space(folder, scene)
    start = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)
    codes = scene_codes(scene)
    write_int8_cog(inputs.scene_int8, codes, scene)
    crop = np.ascontiguousarray(codes[: aoi[0], : aoi[1]])
    del codes
    write_int8_cog(inputs.aoi_int8, crop, scene)
    write_geedim_float64(inputs.aoi_float64, crop, scene)
    marker.write_text(json.dumps(key))
    return Inputs(folder, scene, time.perf_counter() - start)


def _check_space(folder: Path, scene: Scene) -> None:
    """Refuse to start when the disk cannot hold the files (measured: float64 ~0.45 B and int8 COG ~0.85 B per
    raw byte, overviews included)."""
    aoi_px = scene.aoi[0] * scene.aoi[1]
    needed = 0.5 * aoi_px * N_BANDS * 8 + 0.9 * (scene.height * scene.width + aoi_px) * N_BANDS
    probe = folder
    while not probe.exists():  # the nearest folder that exists: where the new ones will be made
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < 1.2 * needed:
        raise SystemExit(f"need about {needed / 1e9:.1f} GB free in {probe} for the inputs, have {free / 1e9:.1f} GB")


def disk_usage(folder: Path) -> int:
    """Bytes of the files under ``folder``."""
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def default_folder() -> Path:
    """``$AEF_BENCH_DATA``, else ``aef-widgets-bench`` in the temporary folder."""
    return Path(os.environ.get("AEF_BENCH_DATA") or Path(tempfile.gettempdir()) / "aef-widgets-bench")
