"""The reader context of the Earth Engine engine: how its products are drawn and measured.

Every request a product makes when it is looked at goes through here: the region areas are measured in (the AOI at
10 m in the UTM zone of its centre, else the view at about screen resolution), one map request per layer, one
``reduceRegion`` per area. Products are frozen values given this context when they draw or measure
(``product.layer(ctx, view)``); the tiles and areas they remember are kept here, keyed by the product's token
(``memo``), so moving a slider back costs no request.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import ee

from ..analysis.area import M2_PER_HA, ClassAreas
from ..core.aoi import AOI
from ..core.bands import BAND_NAMES, N_BANDS
from ..core.errors import NoDataError, UsageError
from ..rendering.view import MapView
from ..sources.earthengine import NATIVE_RESOLUTION, EarthEngineSource, aoi_geometry, crs_code, ee_errors, utm_crs
from .base import AreaSummary, Tiles
from .memo import Memo

#: ``maxPixels`` of area requests; with ``bestEffort=False`` a larger region fails instead of coarsening silently.
MAX_PIXELS = 10**10
#: Tile URLs and areas remembered for the products of one context (small: strings and numbers).
PRODUCT_MEMO_ENTRIES = 64
T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class Region:
    """Where areas are measured and clusters learnt: an AOI, or the rectangle of the view."""

    aoi: AOI
    geometry: ee.Geometry
    crs: str
    scale: float
    scope: str


def unit_image(image: ee.Image) -> ee.Image:
    """The 64 bands scaled to unit length per pixel, as the local engine scales vectors before comparing them."""
    bands = image.select(list(BAND_NAMES))
    return bands.divide(bands.pow(2).reduce(ee.Reducer.sum()).sqrt())


def embedding_dot(image: ee.Image, vector: Sequence[float]) -> ee.Image:
    """Dot product of every pixel's 64 bands with a constant 64-vector (a one-band image)."""
    if len(vector) != N_BANDS:
        raise UsageError(f"a reference needs {N_BANDS} values, got {len(vector)}")
    weights = ee.Image.constant([float(v) for v in vector])
    return weights.multiply(image.select(list(BAND_NAMES))).reduce(ee.Reducer.sum())


class EEContext:
    """What Earth Engine products of one source are drawn and measured through: regions, map requests, areas."""

    def __init__(self, source: EarthEngineSource, max_pixels: int = MAX_PIXELS) -> None:
        self.source = source
        self.max_pixels = max_pixels
        self._products: Memo = Memo(PRODUCT_MEMO_ENTRIES)

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` remembered under ``key`` (a product's token first: products never share entries)."""
        return self._products.get(key, compute)

    # where things are measured ----------------------------------------------------------------------------
    def region(self, aoi: AOI | None, view: MapView | None) -> Region | None:
        """The AOI at 10 m, else the view at about screen resolution, else None."""
        if aoi is not None:
            west, south, east, north = aoi.bounds
            crs = crs_code(utm_crs((west + east) / 2, (south + north) / 2))
            return Region(aoi, aoi_geometry(aoi), crs, NATIVE_RESOLUTION, f"in the AOI at {NATIVE_RESOLUTION:g} m")
        if view is None:
            return None
        inside = view.clipped((-180.0, -85.0, 180.0, 85.0))  # Web Mercator stops at about 85°, so rarely empty
        if inside is None:
            return None
        west, south, east, north = inside
        rect = AOI.from_bounds(west, south, east, north)
        scale = view.data_resolution(NATIVE_RESOLUTION, (south + north) / 2)  # as the local engine reads views
        crs = crs_code(utm_crs((west + east) / 2, (south + north) / 2))
        return Region(rect, aoi_geometry(rect), crs, scale, f"in the view at {scale:g} m")

    # requests: each is exactly one call to Earth Engine ---------------------------------------------------
    def tiles(self, image: ee.Image, vis: dict, action: str) -> Tiles:
        """One map request: the XYZ tile URL of ``image`` drawn with ``vis``."""
        with ee_errors(action):
            map_id = image.getMapId(vis)
        return Tiles(map_id["tile_fetcher"].url_format, self.source.attribution)

    def area_above(self, values: ee.Image, threshold: float, region: Region | None) -> AreaSummary:
        """One request: area of ``values >= threshold`` and of all valid pixels, summed in the region."""
        if region is None:
            raise NoDataError("draw an AOI (or show the map view) to measure areas on Earth Engine")
        area = ee.Image.pixelArea()
        bands = (
            area.updateMask(values.mask())
            .rename("valid")
            .addBands(area.updateMask(values.gte(threshold)).rename("above"))
        )
        # unweighted: whole pixels whose centre is inside count, as in the local engine, not slivers of edge pixels
        sums = bands.reduceRegion(
            reducer=ee.Reducer.sum().unweighted(), geometry=region.geometry, crs=region.crs, scale=region.scale,
            maxPixels=self.max_pixels, bestEffort=False,
        )  # fmt: skip
        with ee_errors("measuring areas"):
            info = sums.getInfo() or {}
        valid, above = float(info.get("valid") or 0.0), float(info.get("above") or 0.0)
        if valid <= 0:
            raise NoDataError(f"there are no embeddings {region.scope}")
        return AreaSummary(above / M2_PER_HA, 100.0 * above / valid, region.scope)

    def class_areas(self, labels: ee.Image, n_classes: int, region: Region) -> ClassAreas:
        """One request: pixels and hectares of each class, from a sum of pixel areas grouped by class."""
        area = ee.Image.pixelArea().updateMask(labels.mask()).rename("area")
        reducer = (
            ee.Reducer.sum()
            .unweighted()
            .combine(ee.Reducer.count(), sharedInputs=True)
            .group(groupField=1, groupName="class")
        )
        grouped = area.addBands(labels).reduceRegion(
            reducer=reducer, geometry=region.geometry, crs=region.crs, scale=region.scale,
            maxPixels=self.max_pixels, bestEffort=False,
        )  # fmt: skip
        with ee_errors("measuring the area of each cluster"):
            info = grouped.getInfo() or {}
        return class_areas_from_groups(info, n_classes)


def class_areas_from_groups(info: dict, n_classes: int) -> ClassAreas:
    """``ClassAreas`` from a grouped ``reduceRegion`` answer ``{"groups": [{"class", "sum", "count"}, ...]}``."""
    hectares = [0.0] * n_classes
    pixels = [0] * n_classes
    for group in info.get("groups") or []:
        label = int(group.get("class", -1))
        if 0 <= label < n_classes:
            hectares[label] += float(group.get("sum") or 0.0) / M2_PER_HA
            pixels[label] += int(group.get("count") or 0)
    return ClassAreas(tuple(range(n_classes)), tuple(pixels), tuple(hectares))
