"""The bundled sample: a synthetic multi-year AEF dataset, generated once into a per-user cache.

The first call of ``sample_dir`` (or ``sample_source``, ``sample_truth``) writes the dataset of
``aef_widgets.data.synthetic`` into ``<cache>/sample-v{SAMPLE_VERSION}/``, where ``<cache>`` is the argument,
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

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import rasterio

from ..core.errors import SourceError
from ..core.grid import Grid

# the files and the truth live with the generator in ``aef_widgets.data``; these names stay importable from here
from ..data.cog import overview_levels, write_embedding_cog, write_uint8
from ..data.truth import LABEL_NODATA, SAMPLE_VERSION, PlantedEvent, SampleTruth
from .cache_dir import CACHE_ENV, cache_root

if TYPE_CHECKING:
    from .geotiff import GeoTIFFSource

__all__ = [
    "CACHE_ENV", "LABEL_NODATA", "SAMPLE_NAME", "SAMPLE_VERSION", "PlantedEvent", "SampleTruth", "cache_root",
    "overview_levels", "sample_dir", "sample_source", "sample_truth", "write_embedding_cog", "write_uint8",
]  # fmt: skip
SAMPLE_NAME = "Synthetic sample (not real data)"


def sample_dir(cache_dir: str | Path | None = None) -> Path:
    """The folder of the sample dataset, generated first if it is not in the cache yet."""
    root = cache_root(cache_dir)
    final = root / f"sample-v{SAMPLE_VERSION}"
    if _is_complete(final):
        return final
    from ..data.synthetic import write_sample  # the generator needs scipy, so load it only to generate

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
        _remove_older_versions(root)
    except OSError as e:
        raise SourceError(
            f"cannot write the sample dataset into {root}: {e.strerror or e}. Set {CACHE_ENV} to a writable folder."
        ) from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _remove_older_versions(root: Path) -> None:
    """Samples of earlier versions are never read by this version (360-400 MB each): gone once this one is written.
    An older install sharing the cache writes its own version again when it next starts (once: only a newer version
    removes older ones), and one of its kernels running meanwhile loses its files until restarted."""
    for folder in root.glob("sample-v*"):
        version = folder.name.removeprefix("sample-v")
        if version.isdigit() and int(version) < SAMPLE_VERSION:
            shutil.rmtree(folder, ignore_errors=True)


def sample_source(cache_dir: str | Path | None = None) -> GeoTIFFSource:
    """The sample as an embedding source (generated on first use)."""
    from .open import open_source  # lazily: the truth and the cache need no reader

    folder = sample_dir(cache_dir)
    paths = {year: folder / f"aef_sample_{year}.tif" for year in _info(folder)["years"]}
    return open_source(paths, name=SAMPLE_NAME, synthetic=True)


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
