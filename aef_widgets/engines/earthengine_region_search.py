"""The region search on Earth Engine: the score image and its best pixels computed server-side, one request.

The score is the local one (``contrast_score``: ``unit(x) . w``) as an image. Its best pixels come back as a
sample of the pixels at or above a threshold, sorted by score and cut to the number asked for; the threshold is
the score's percentile that leaves about ``THRESHOLD_SLACK`` times that number of the region's pixels, computed in
the same graph (``reduceRegion`` of a percentile), so the search is one request whatever the region's size. Nothing
is pruned: Earth Engine scores every pixel. The percentile is a histogram estimate over a large region; were it
ever too high, fewer pixels than asked for would come back, which the result shows (it never invents any). Ties
come in Earth Engine's order.

A region too large for one interactive request (Earth Engine's limit on computation time and on the features one
answer returns) is searched by a batch export of the same sorted table (``export_similar_ee``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import ee
import numpy as np

from ..analysis.contrast import contrast_weights
from ..analysis.region_search import neighbourhood_pixels
from ..core.aoi import AOI
from ..core.errors import UsageError
from ..sources.earthengine import EarthEngineSource, aoi_geometry, crs_code, ee_errors, utm_crs
from .ee_context import embedding_dot, unit_image
from .ee_export import DESTINATIONS, ExportTask
from .region_report import SearchReport, as_region, check_search, ranked_points, references

if TYPE_CHECKING:
    import geopandas

#: The threshold leaves about this many times the pixels asked for (the percentile is an estimate).
THRESHOLD_SLACK = 4
#: Most features one interactive answer carries; more belong in an export.
MAX_FEATURES = 5000
#: Pixels a server-side reduction may visit.
MAX_PIXELS = 10**13


def score_image(source: EarthEngineSource, year: int, weights: np.ndarray) -> ee.Image:
    """The score of every pixel of ``year`` (one band, ``score``), as the local engine computes it."""
    return embedding_dot(unit_image(source.image(year)), weights).rename("score")


def similar_collection(
    source: EarthEngineSource,
    region: AOI | Sequence[float],
    year: int,
    positives: np.ndarray | Sequence,
    negatives: np.ndarray | Sequence = (),
    *,
    count: int = 100,
) -> ee.FeatureCollection:
    """The ``count`` best pixels of the region as a server-side collection of points with ``score``, best first."""
    year = source.check_year(year)
    aoi = as_region(region)
    weights = contrast_weights(references(source, positives, year), references(source, negatives, year))
    score = score_image(source, year, weights)
    geometry = aoi_geometry(aoi)
    west, south, east, north = aoi.bounds
    crs = crs_code(utm_crs((west + east) / 2, (south + north) / 2))
    region_px = max(1.0, aoi.area_km2 * 1e6 / source.resolution**2)
    keep = min(1.0, THRESHOLD_SLACK * count / region_px)
    percentile = 100.0 * (1.0 - keep)
    statistics = score.reduceRegion(
        reducer=ee.Reducer.percentile([percentile], None, 2**16), geometry=geometry, crs=crs,
        scale=source.resolution, maxPixels=MAX_PIXELS, tileScale=4,
    )  # fmt: skip
    threshold = ee.Number(statistics.values().get(0))  # its one value, whatever Earth Engine names it
    above = score.updateMask(score.gte(threshold))
    points = above.sample(
        region=geometry, scale=source.resolution, projection=crs, dropNulls=True, tileScale=4, geometries=True
    )
    return points.sort("score", False).limit(int(count))


def find_similar_ee(
    source: EarthEngineSource,
    region: AOI | Sequence[float],
    year: int,
    positives: np.ndarray | Sequence,
    negatives: np.ndarray | Sequence = (),
    *,
    top: int = 100,
    min_distance_m: float = 0,
) -> geopandas.GeoDataFrame:
    """``find_similar`` on Earth Engine, in one request: the same columns (``score``, ``rank``, ``year``)."""
    top, min_distance_m = check_search(top, min_distance_m)
    count = top if min_distance_m <= 0 else top * neighbourhood_pixels(min_distance_m, source.resolution)
    if count > MAX_FEATURES:
        raise UsageError(
            f"this search needs up to {count:,} candidate pixels back from Earth Engine, more than one answer carries "
            f"({MAX_FEATURES:,}); ask for fewer results or a smaller min_distance_m, or export it (export_similar_ee)"
        )
    collection = similar_collection(source, region, year, positives, negatives, count=count)
    with ee_errors("searching the region"):
        info = collection.getInfo()
    features = info.get("features", [])
    lonlat = np.array([f["geometry"]["coordinates"] for f in features], dtype=np.float64).reshape(-1, 2)
    scores = np.array([f["properties"]["score"] for f in features], dtype=np.float64)
    report = SearchReport("Earth Engine", (), "nothing pruned: every pixel scored on Earth Engine, the best sent back")
    return ranked_points(lonlat[:, 0], lonlat[:, 1], scores, year, top, min_distance_m, report)


def export_similar_ee(
    source: EarthEngineSource,
    region: AOI | Sequence[float],
    year: int,
    positives: np.ndarray | Sequence,
    negatives: np.ndarray | Sequence = (),
    *,
    top: int = 100,
    destination: str = "drive",
    description: str = "aef_similar",
    **where: str,
) -> ExportTask:
    """A batch export of the region's ``top`` best pixels (points with ``score``, best first) as GeoJSON to Drive
    (``folder=``) or Cloud Storage (``bucket=``), or as a table asset (``asset_id=``); started."""
    top, _ = check_search(top, 0)
    if destination not in DESTINATIONS:
        raise UsageError(f"destination must be one of {', '.join(DESTINATIONS)}, got {destination!r}")
    collection = similar_collection(source, region, year, positives, negatives, count=top)
    name = "".join(c if c.isalnum() or c in "_-.,:;" else "_" for c in description)[:100]
    if destination == "drive":
        task = ee.batch.Export.table.toDrive(
            collection=collection, description=name, fileFormat="GeoJSON", folder=where.get("folder")
        )
    elif destination == "gcs":
        if not where.get("bucket"):
            raise UsageError("an export to Cloud Storage needs bucket=")
        task = ee.batch.Export.table.toCloudStorage(
            collection=collection, description=name, bucket=where["bucket"], fileFormat="GeoJSON"
        )
    else:
        if not where.get("asset_id"):
            raise UsageError("an export to an asset needs asset_id=")
        task = ee.batch.Export.table.toAsset(collection=collection, description=name, assetId=where["asset_id"])
    return ExportTask(task, destination).start()
