"""Opening embeddings by what the user has: a file, a URL, a folder, a glob pattern, a list or a mapping of years to
these, or ``"release"`` for the public COG release.

Apart from ``geotiff`` and ``release`` so neither imports the other: the release is made of GeoTIFFs, and opening
by name picks between them.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping, Sequence
from os import PathLike

from ..core.errors import SourceError
from .base import EmbeddingSource
from .geotiff import GeoTIFFSource, PathSpec
from .rasterfile import RasterFile, inspect_file


def open_source(
    paths: PathSpec | Mapping[int, PathSpec],
    years: Sequence[int] | None = None,
    *,
    name: str | None = None,
    attribution: str | None = None,
    synthetic: bool = False,
    **release_options,
) -> EmbeddingSource:
    """Open AEF embeddings stored as GeoTIFFs.

    ``paths`` is a file, a URL (``https://``, ``s3://``, ``gs://`` or any GDAL ``/vsi`` path), a folder, a glob
    pattern, a list of these, or a mapping ``{year: path(s)}``. Without a mapping, each file's year comes from
    its ``YEAR`` tag or a year in its name; ``years`` may instead list them in the order of ``paths``. Several
    files of one year form a mosaic.

    ``"release"`` (or ``"release:gcs"``, ``"release:source-coop"``) opens the public COG release instead, with
    ``release_options`` passed to ``open_release`` (``mirror``, ``url``, ``index``, ``cache_dir``, ...).
    """
    if isinstance(paths, str) and (paths == "release" or paths.startswith("release:")):
        from .release import open_release  # the release's index and HTTP stack load only when asked for

        if paths != "release":
            release_options.setdefault("mirror", paths.split(":", 1)[1])
        return open_release(**release_options)
    if release_options:
        raise TypeError(f"unexpected keyword arguments {sorted(release_options)} (only for open_source('release'))")
    by_year: dict[int, list[RasterFile]] = {}
    if isinstance(paths, Mapping):
        if years is not None:
            raise TypeError("give years either as a mapping or in `years`, not both")
        for year, spec in paths.items():
            by_year.setdefault(int(year), []).extend(inspect_file(p, int(year)) for p in _expand(spec))
    else:
        expanded = _expand(paths)
        if years is not None and len(years) != len(expanded):
            raise SourceError(f"{len(years)} years given for {len(expanded)} files")
        for i, p in enumerate(expanded):
            f = inspect_file(p, None if years is None else int(years[i]))
            if f.year is None:
                raise SourceError(
                    f"cannot tell the year of {p}: name it with the year (e.g. aef_2024.tif), set a YEAR tag, "
                    "or pass a mapping such as open_source({2024: path})"
                )
            by_year.setdefault(f.year, []).append(f)
    return GeoTIFFSource(by_year, name=name, attribution=attribution, synthetic=synthetic)


def _expand(spec: PathSpec) -> list[str]:
    """Files named by a path, URL, folder, glob pattern or list of these."""
    if isinstance(spec, (str, PathLike)):
        text = os.fspath(spec)
        if "://" in text or text.startswith("/vsi"):
            return [text]
        if os.path.isdir(text):
            patterns = (os.path.join(text, "**", f"*.{ext}") for ext in ("tif", "tiff", "TIF", "TIFF"))
            found = sorted(p for pattern in patterns for p in glob.glob(pattern, recursive=True))
            if not found:
                raise SourceError(f"no GeoTIFF files in folder {text}")
            return found
        if glob.has_magic(text):
            found = sorted(glob.glob(text, recursive=True))
            if not found:
                raise SourceError(f"no files match {text}")
            return found
        if not os.path.exists(text):
            raise SourceError(f"no such file: {text}")
        return [text]
    out = [p for item in spec for p in _expand(item)]
    if not out:
        raise SourceError("no files given")
    return out
