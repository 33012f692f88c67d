"""The bundled sample: a synthetic multi-year AEF dataset, generated once into a per-user cache.

The first call of ``sample_dir`` (or ``sample_source``, ``sample_truth``) writes the dataset of
``aef_widgets.sources.synthetic`` into ``<cache>/sample-v{SAMPLE_VERSION}/``, where ``<cache>`` is the argument,
else the ``AEF_WIDGETS_CACHE`` environment variable, else the platform's user cache folder. It is written into a
temporary folder that is then renamed, so a process never sees half a dataset. The folder holds:

- ``aef_sample_{year}.tif``: int8 COGs in the encoding of the public release (64 bands A00..A63, nodata -128),
  tagged ``YEAR`` and ``SYNTHETIC``; their overviews are renormalised means, not averages of int8 codes;
- ``labels_{year}.tif``: uint8 class ids, 255 where the embeddings have no data;
- ``change_{y0}_{y1}.tif``: uint8 1 where the dominant class differs between consecutive years, 0 elsewhere, 255
  nodata;
- ``events.tif``: uint8 id of the planted event of each pixel (0 none), described in ``classes.json``;
- ``classes.json``: class names and colours, years, what changed, and the events (name, kind, year, steps).

The data are synthetic: they imitate the statistics of real embeddings but show no real place.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import platformdirs
import rasterio
import rasterio.shutil
from affine import Affine
from rasterio.crs import CRS
from rasterio.io import MemoryFile

from ..core.bands import BAND_NAMES, N_BANDS
from ..core.errors import SourceError, YearError
from ..core.grid import Grid
from ..core.quantization import DEQUANTIZE_LUT, NODATA_INT8, quantize

if TYPE_CHECKING:
    from .geotiff import GeoTIFFSource

#: Bump whenever the generator or its class statistics change, so caches of older samples are not reused.
SAMPLE_VERSION = 2
SAMPLE_NAME = "Synthetic sample (not real data)"
CACHE_ENV = "AEF_WIDGETS_CACHE"
LABEL_NODATA = 255


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """The cache folder: ``cache_dir``, else ``$AEF_WIDGETS_CACHE``, else the user cache folder."""
    if cache_dir is None:
        cache_dir = os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir("aef-widgets")
    return Path(cache_dir).expanduser()


def sample_dir(cache_dir: str | Path | None = None) -> Path:
    """The folder of the sample dataset, generated first if it is not in the cache yet."""
    root = cache_root(cache_dir)
    final = root / f"sample-v{SAMPLE_VERSION}"
    if _is_complete(final):
        return final
    from .synthetic import write_sample  # the generator needs scipy, so load it only to generate

    tmp = root / f".{final.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir(parents=True)
        write_sample(tmp)
        if final.exists() and not _is_complete(final):  # a damaged copy: make room for the new one
            shutil.rmtree(final.rename(root / f".{final.name}-damaged-{uuid.uuid4().hex[:8]}"))
        try:
            tmp.rename(final)
        except OSError:
            if not _is_complete(final):  # otherwise another process finished first with the same data
                raise
    except OSError as e:
        raise SourceError(
            f"cannot write the sample dataset into {root}: {e.strerror or e}. Set {CACHE_ENV} to a writable folder."
        ) from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def sample_source(cache_dir: str | Path | None = None) -> GeoTIFFSource:
    """The sample as an embedding source (generated on first use)."""
    from .geotiff import open_source  # lazily: the truth and the cache need no reader

    folder = sample_dir(cache_dir)
    paths = {year: folder / f"aef_sample_{year}.tif" for year in _info(folder)["years"]}
    return open_source(paths, name=SAMPLE_NAME, synthetic=True)


@dataclass(frozen=True)
class PlantedEvent:
    """One planted event of the sample.

    ``year`` is the first year that shows the event's main change (the year of its largest year-to-year change),
    None for a gradual change; ``steps`` maps every year in which the event changes the land cover to what
    changed into that year.
    """

    id: int
    name: str
    kind: str  # "abrupt", "recovery" (then regrows), "temporary" (then returns) or "gradual"
    year: int | None
    steps: dict[int, str]


@dataclass(frozen=True)
class SampleTruth:
    """What the sample really holds: land-cover classes per year, where they changed, and the planted events."""

    folder: Path
    years: tuple[int, ...]
    class_names: dict[int, str]
    class_colours: dict[int, str]
    grid: Grid
    events: tuple[PlantedEvent, ...] = ()

    def event(self, name: str) -> PlantedEvent:
        """The planted event called ``name``."""
        for e in self.events:
            if e.name == name:
                return e
        raise KeyError(f"no planted event {name!r}; events: {', '.join(e.name for e in self.events)}")

    def event_mask(self, name: str) -> np.ndarray:
        """Boolean (rows, cols): the pixels of the event ``name`` (with or without data in a given year)."""
        number = self.event(name).id
        with rasterio.open(self.folder / "events.tif") as ds:
            return ds.read(1) == number

    def labels(self, year: int) -> np.ndarray:
        """uint8 (rows, cols) class ids of ``year``; 255 where the embeddings have no data."""
        if year not in self.years:
            raise YearError(f"the sample has no {year}; years available: {', '.join(map(str, self.years))}")
        with rasterio.open(self.folder / f"labels_{year}.tif") as ds:
            return ds.read(1)

    def change(self, year_a: int, year_b: int) -> np.ndarray:
        """Boolean (rows, cols): True where the class differs between the two years (both with data)."""
        a, b = self.labels(year_a), self.labels(year_b)
        return (a != b) & (a != LABEL_NODATA) & (b != LABEL_NODATA)


def sample_truth(cache_dir: str | Path | None = None) -> SampleTruth:
    """Ground truth of the sample (generated on first use)."""
    folder = sample_dir(cache_dir)
    info = _info(folder)
    years = tuple(info["years"])
    with rasterio.open(folder / f"labels_{years[0]}.tif") as ds:
        grid = Grid(transform=ds.transform, width=ds.width, height=ds.height, crs=ds.crs)
    return SampleTruth(
        folder=folder,
        years=years,
        class_names={int(k): v["name"] for k, v in info["classes"].items()},
        class_colours={int(k): v["colour"] for k, v in info["classes"].items()},
        grid=grid,
        events=tuple(
            PlantedEvent(e["id"], e["name"], e["kind"], e["year"], {int(y): t for y, t in e["steps"].items()})
            for e in info["events"]
        ),
    )


def _info(folder: Path) -> dict:
    return json.loads((folder / "classes.json").read_text())


def _is_complete(folder: Path) -> bool:
    try:
        years = _info(folder)["years"]
    except (OSError, ValueError, KeyError):
        return False
    names = [f"{kind}_{year}.tif" for year in years for kind in ("aef_sample", "labels")]
    names += [f"change_{a}_{b}.tif" for a, b in zip(years[:-1], years[1:])] + ["events.tif"]
    return all((folder / name).is_file() for name in names)


# --- the files ------------------------------------------------------------------------------------------------------
# Horizontal differencing shrinks smooth embeddings by a third; level 1 compresses about as well as 6, in half the time.
_COG_OPTIONS = {"compress": "DEFLATE", "predictor": 2, "level": 1, "blocksize": 256, "num_threads": "ALL_CPUS"}
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


def write_embedding_cog(path: Path, codes: np.ndarray, crs: str, transform: Affine, tags: Mapping[str, str]) -> None:
    """Write int8 codes (rows, cols, 64) as a COG whose overviews are renormalised means.

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
        rasterio.shutil.copy(vrt_file.name, path, driver="COG", overviews="FORCE_USE_EXISTING", **_COG_OPTIONS)


def write_uint8(path: Path, data: np.ndarray, crs: str, transform: Affine, tags: Mapping[str, str]) -> None:
    """A single-band uint8 GeoTIFF (truth labels or change masks), nodata 255."""
    profile = {"width": data.shape[1], "height": data.shape[0], "count": 1, "dtype": "uint8", "crs": crs}
    with rasterio.open(
        path, "w", driver="GTiff", nodata=LABEL_NODATA, transform=transform, tiled=True, compress="deflate", **profile
    ) as ds:
        ds.write(data, 1)
        ds.update_tags(**tags)
