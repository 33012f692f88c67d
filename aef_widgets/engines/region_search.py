"""Find every place like this across a region: the best-scoring 10 m pixels of an area far larger than the view.

``find_similar`` scores pixels as the similarity probe does (``contrast_score``: mean cosine to the positives minus
mean cosine to the negatives) and returns the ``top`` of them as points. Two ways, same answer format:

- ``exact=True`` streams every 10 m pixel chunk by chunk (the chunks of ``workflows.map_chunks``: threads here, or a
  Dask cluster's workers with ``executor=``), keeping only the best few: memory is that of the chunks in flight,
  whatever the region's size. It is the reference.
- the default, coarse-to-fine (``region_coarse``), scores an overview level first (the release's files carry
  renormalised means at every power of two), then reads at 10 m only the chunks whose coarse cells could still
  reach the top, best first. It is a heuristic whose recall is measured (see ``analysis.region_search``).

Ties are ranked north first, then west first (``analysis.region_search``). An Earth Engine source is searched on
Earth Engine (``earthengine_region_search``).
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING

import numpy as np
from pyproj import Transformer
from rasterio.windows import Window

from ..analysis.contrast import contrast_weights
from ..analysis.region_search import TopPixels, chunk_best, neighbourhood_pixels, unit_scores
from ..core.aoi import AOI
from ..core.bands import N_BANDS
from ..core.errors import TooLargeError, TooManyFilesError, UsageError
from ..core.grid import LONLAT, Grid
from ..sources.base import EmbeddingSource, mask_to_aoi, subgrid
from .base import Progress
from .region_report import LevelRead, SearchReport, as_region, check_search, ranked_points, references
from .workflows import CHUNK_BYTES, map_chunks

if TYPE_CHECKING:  # geopandas takes a second to import: loaded when a search returns
    import geopandas

#: Most pixels one process searches at 10 m without an executor: 64 release files, 4.3 billion pixels (at about
#: 0.4 CPU s a million, half an hour of CPU); beyond, a Dask cluster or Earth Engine.
MAX_LOCAL_PX = 64 * 8192 * 8192
#: Most candidate pixels kept while searching (``top`` times a neighbourhood's pixels with ``min_distance_m``).
MAX_CANDIDATES = 20_000_000


def find_similar(
    source: EmbeddingSource,
    region: AOI | Sequence[float],
    year: int,
    positives: np.ndarray | Sequence,
    negatives: np.ndarray | Sequence = (),
    *,
    top: int = 100,
    min_distance_m: float = 0,
    exact: bool = False,
    executor: Executor | None = None,
    progress: Progress | None = None,
    margin: float | None = None,
    coarse_factor: int | None = None,
) -> geopandas.GeoDataFrame:
    """The ``top`` pixels of ``region`` most like the positives and least like the negatives, best first.

    ``region``: an AOI or a (west, south, east, north) box in degrees. ``positives``/``negatives``: (n, 64)
    embeddings, or (n, 2) lon/lat points read from ``source`` in ``year``. Returns points at pixel centres in
    WGS84 with ``score`` (``contrast_score``), ``rank`` (1 = best) and ``year``; with ``min_distance_m`` > 0,
    only the best pixel within that distance of each kept one. ``exact=True`` reads every 10 m pixel; else
    coarse-to-fine (``margin``, ``coarse_factor``: see ``region_coarse``). ``frame.attrs["search"]`` is a
    ``SearchReport``: how much was read at each level. ``progress(fraction, message)`` is called as it goes.
    """
    ee_sources = sys.modules.get("aef_widgets.sources.earthengine")
    if ee_sources is not None and isinstance(source, ee_sources.EarthEngineSource):
        from .earthengine_region_search import find_similar_ee

        return find_similar_ee(source, region, year, positives, negatives, top=top, min_distance_m=min_distance_m)
    top, min_distance_m = check_search(top, min_distance_m)
    year = source.check_year(year)
    aoi = as_region(region)
    weights = contrast_weights(references(source, positives, year), references(source, negatives, year))
    source = _streaming(source)
    grid = region_grid(source, aoi)
    pool = top if min_distance_m <= 0 else top * neighbourhood_pixels(min_distance_m, grid.resolution)
    if pool > MAX_CANDIDATES:
        raise UsageError(
            f"keeping the best pixel within {min_distance_m:,.0f} m of each of {top} results needs up to {pool:,} "
            f"candidates (the limit is {MAX_CANDIDATES:,}); ask for fewer results or a smaller distance"
        )
    report = progress or (lambda fraction, message: None)
    if exact:
        check_region_size(grid, executor, "searching every 10 m pixel")
        found, search = exact_search(source, grid, year, aoi, weights, pool, executor, report)
    else:
        from .region_coarse import COARSE_FACTOR, coarse_to_fine

        factor = COARSE_FACTOR if coarse_factor is None else coarse_factor
        if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor < 2:
            raise UsageError(f"coarse_factor must be a whole number, 2 or more, got {coarse_factor!r}")
        if margin is not None and not margin >= 0:
            raise UsageError(f"margin must be a score difference of 0 or more (None: measured), got {margin!r}")
        check_region_size(source.grid(aoi, resolution=grid.resolution * factor), executor, "the coarse pass")
        found, search = coarse_to_fine(source, grid, year, aoi, weights, pool, int(factor), margin, executor, report)
    report(1.0, str(search))
    return result_frame(grid, found, year, top, min_distance_m, search)


def _streaming(source: EmbeddingSource) -> EmbeddingSource:
    """The source for a region search. The release refuses one read of more than ``max_files`` files (a view
    zoomed out too far); a search reads chunk by chunk, each within that limit, so the region itself may span
    more: a copy without the limit plans it (it shares the original's headers)."""
    if getattr(source, "max_files", None) is None:
        return source
    unlimited = copy.copy(source)
    unlimited.max_files = 2**31  # type: ignore[attr-defined]
    return unlimited


def region_grid(source: EmbeddingSource, aoi: AOI) -> Grid:
    """The source's 10 m grid over the region (neighbouring UTM zones warped onto the region's, as for any read)."""
    try:
        return source.grid(aoi)
    except TooManyFilesError as e:  # a source with a file limit of its own
        raise TooLargeError(f"{e}; search it on Earth Engine, or in pieces") from None


def check_region_size(grid: Grid, executor: Executor | None, what: str) -> None:
    """``TooLargeError`` with the numbers when ``what`` on ``grid`` is more than this process should read."""
    pixels = grid.width * grid.height
    if executor is not None or pixels <= MAX_LOCAL_PX:
        return
    raise TooLargeError(
        f"{what} reads {grid.width:,} x {grid.height:,} pixels ({pixels / 1e9:,.1f} billion at "
        f"{grid.resolution_text}, {pixels * N_BANDS / 1e9:,.0f} GB of int8 embeddings; {pixels / 8192**2:,.0f} "
        f"release tiles); one process reads at most {MAX_LOCAL_PX / 1e9:,.1f} billion (about 0.4 CPU s a million). "
        "Pass executor= a Dask cluster's (client.get_executor()), search coarse-to-fine (exact=False), or search on "
        "Earth Engine (find_similar on an EarthEngineSource, or export_similar_ee for a batch export)"
    )


def exact_search(
    source: EmbeddingSource, grid: Grid, year: int, aoi: AOI | None, weights: np.ndarray, pool: int,
    executor: Executor | None, report: Progress,
) -> tuple[TopPixels, SearchReport]:  # fmt: skip
    """Every pixel of the grid scored, chunk by chunk; the ``pool`` best kept."""
    windows = source.chunk_windows(grid, CHUNK_BYTES)
    found = TopPixels(pool, grid.width)
    task = fine_task(source, grid, year, aoi, weights, pool)
    for i, (_window, (scores, positions)) in enumerate(map_chunks(windows, task, source=source, executor=executor)):
        found.offer(scores, positions)
        report((i + 1) / len(windows), f"scored {i + 1} of {len(windows)} chunks at {grid.resolution_text}")
    pixels = grid.width * grid.height
    level = LevelRead(grid.resolution, pixels, pixels, len(windows), len(windows))
    return found, SearchReport("exact", (level,), "nothing pruned: every pixel scored")


def fine_task(source: EmbeddingSource, grid: Grid, year: int, aoi: AOI | None, weights: np.ndarray, pool: int):
    """What a worker does with one chunk at 10 m: read it, score it, keep its ``pool`` best pixels."""

    def task(window: Window) -> tuple[np.ndarray, np.ndarray]:
        field = mask_to_aoi(source.read_window(subgrid(grid, window), year), aoi)
        scores = unit_scores(field, weights)
        return chunk_best(scores, int(window.row_off), int(window.col_off), grid.width, pool)

    return task


def result_frame(
    grid: Grid, found: TopPixels, year: int, top: int, min_distance_m: float, search: SearchReport
) -> geopandas.GeoDataFrame:
    """The kept pixels as ranked points at their centres, in WGS84."""
    rows, cols = np.divmod(found.positions, grid.width)
    x, y = grid.transform @ (cols + 0.5, rows + 0.5)
    lon, lat = Transformer.from_crs(grid.crs, LONLAT, always_xy=True).transform(np.asarray(x), np.asarray(y))
    return ranked_points(lon, lat, found.scores, year, top, min_distance_m, search)
