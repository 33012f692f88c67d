"""Every year of a place on Earth Engine: the products of ``analysis.temporal``, computed server-side.

One multi-band image holds, per year, the cosine of the unit vectors to the reference year (``ref_<year>``) and to
the pixel's latest earlier year with data (``y2y_<year>``; the latest vector is carried forward with ``unmask``,
as the local engine does). A chart is then one ``reduceRegion`` of that image: the mean and count over an AOI, or
the first value at a clicked point. When-did-it-change is ``ee.Reducer.max(2)`` over the years' (change, year)
pairs: the largest change and its year. The anomaly's median and MAD are two ``reduceRegion`` medians inside the
same graph (Earth Engine's median is histogram-based, so approximate to its bucket width), evaluated with the
map request. Polygons come from ``reduceToVectors``; large rasters and tables leave as batch exports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ee
import numpy as np

from ..analysis.area import ClassAreas
from ..analysis.temporal import MAD_TO_STD, Trajectory
from ..core.aoi import AOI
from ..core.errors import NoDataError, YearError
from ..sources.earthengine import NATIVE_RESOLUTION, aoi_geometry, crs_code, ee_errors, utm_crs
from .ee_context import EEContext, Region, unit_image
from .ee_export import DESTINATIONS, ExportTask, start_export

if TYPE_CHECKING:
    from .earthengine import EarthEngineEngine

#: Pixels a polygon request may trace (``reduceToVectors`` fails instead of coarsening above it).
VECTOR_MAX_PIXELS = 10**9


def _dot(a: ee.Image, b: ee.Image) -> ee.Image:
    return a.multiply(b).reduce(ee.Reducer.sum())


@dataclass(frozen=True, eq=False)
class EETemporal:
    """The temporal products of one Earth Engine source over the years given (all of the source's by default),
    requested through the engine's reader context (an ``EEContext``, not the engine)."""

    context: EEContext
    years: tuple[int, ...]

    @classmethod
    def of(cls, engine: EarthEngineEngine | EEContext, years: Sequence[int] | None = None) -> EETemporal:
        """Over an ``EarthEngineEngine``'s context (or a context given)."""
        ctx = engine if isinstance(engine, EEContext) else engine.context
        chosen = tuple(sorted({ctx.source.check_year(y) for y in (years or ctx.source.years)}))
        if len(chosen) < 2:
            raise YearError("comparing years needs at least two")
        return cls(ctx, chosen)

    def _units(self) -> list[ee.Image]:
        return [unit_image(self.context.source.image(y)) for y in self.years]

    def similarity_bands(self, reference_year: int) -> ee.Image:
        """``ref_<year>`` and ``y2y_<year>`` bands for every year (no ``y2y`` for the first)."""
        if reference_year not in self.years:
            raise YearError(f"the reference year {reference_year} is not among {self.years}")
        units = self._units()
        reference = units[self.years.index(reference_year)]
        bands = [_dot(u, reference).rename(f"ref_{y}") for u, y in zip(units, self.years)]
        latest = units[0]
        for u, y in zip(units[1:], self.years[1:]):
            bands.append(_dot(u, latest).rename(f"y2y_{y}"))
            latest = u.unmask(latest, False)  # the earlier vector stays where this year has none
        return ee.Image.cat(bands)

    # charts: one request each ------------------------------------------------------------------------------
    def aoi_trajectory(self, aoi: AOI, reference_year: int) -> Trajectory:
        """Mean over the AOI (10 m, its UTM zone) of every year's similarities: one ``reduceRegion``."""
        region = self.context.region(aoi, None)
        reducer = ee.Reducer.mean().combine(ee.Reducer.count(), sharedInputs=True)
        stats = self.similarity_bands(reference_year).reduceRegion(
            reducer=reducer, geometry=region.geometry, crs=region.crs, scale=region.scale,
            maxPixels=self.context.max_pixels, bestEffort=False,
        )  # fmt: skip
        with ee_errors("computing the trajectory"):
            info = stats.getInfo() or {}
        return self._trajectory(info, reference_year, "_mean", "_count")

    def point_trajectory(self, point: tuple[float, float], reference_year: int) -> Trajectory:
        """The similarities of the pixel at a lon/lat point: one ``reduceRegion`` at 10 m."""
        lon, lat = point
        stats = self.similarity_bands(reference_year).reduceRegion(
            reducer=ee.Reducer.first(), geometry=ee.Geometry.Point([lon, lat]),
            crs=crs_code(utm_crs(lon, lat)), scale=NATIVE_RESOLUTION,
        )  # fmt: skip
        with ee_errors("computing the trajectory"):
            info = stats.getInfo() or {}
        return self._trajectory(info, reference_year, "", None)

    def _trajectory(self, info: dict, reference_year: int, value: str, count: str | None) -> Trajectory:
        def get(key: str) -> float:
            v = info.get(key)
            return np.nan if v is None else float(v)

        to_ref = np.array([get(f"ref_{y}{value}") for y in self.years])
        y2y = np.array([np.nan] + [get(f"y2y_{y}{value}") for y in self.years[1:]])
        if count is None:
            pixels = np.isfinite(to_ref).astype(np.int64)
        else:
            pixels = np.array([int(get(f"ref_{y}{count}") or 0) for y in self.years], dtype=np.int64)
        if not np.isfinite(to_ref).any():
            raise NoDataError("there are no embeddings there in the reference year")
        return Trajectory(self.years, int(reference_year), to_ref, y2y, pixels)

    # maps: drawn as tiles, measured with the context's requests -------------------------------------------------
    def change_years(self, aoi: AOI | None = None) -> ee.Image:
        """Bands ``size`` (the largest year-to-year change, 1 - cosine) and ``year`` (when), per pixel; clipped to
        the AOI when one is given."""
        units = self._units()
        pairs, latest = [], units[0]
        for u, y in zip(units[1:], self.years[1:]):
            change = ee.Image.constant(1).subtract(_dot(u, latest)).rename("size")
            year = ee.Image.constant(y).toInt16().updateMask(change.mask()).rename("year")
            pairs.append(change.addBands(year))
            latest = u.unmask(latest, False)
        image = ee.ImageCollection(pairs).reduce(ee.Reducer.max(2)).rename(["size", "year"])
        return image if aoi is None else image.clip(aoi_geometry(aoi))

    def change_year_areas(self, aoi: AOI, threshold: float = 0.0) -> ClassAreas:
        """Hectares that changed by at least ``threshold`` in each year after the first: one grouped request."""
        bands = self.change_years()
        later = list(self.years[1:])
        index = (
            bands.select("year")
            .remap(later, list(range(len(later))))
            .updateMask(bands.select("size").gte(float(threshold)))
        )
        areas = self.context.class_areas(index.rename("class"), len(later), self.context.region(aoi, None))
        return ClassAreas(tuple(later), areas.pixels, areas.hectares)

    def anomaly(self, year: int, aoi: AOI, min_years: int = 2) -> ee.Image:
        """Bands ``anomaly`` (1 - cosine of ``year`` to the mean direction of the other years) and ``score``
        (normalised by the AOI's median and 1.4826 x MAD, both computed server-side in the same graph)."""
        if year not in self.years:
            raise YearError(f"{year} is not among {self.years}")
        units = self._units()
        others = [u for u, y in zip(units, self.years) if y != year]
        total = ee.ImageCollection([u.unmask(0, False) for u in others]).sum()
        count = ee.ImageCollection([u.select(0).mask().rename("n") for u in others]).sum()
        target = units[self.years.index(year)]
        norm = total.pow(2).reduce(ee.Reducer.sum()).sqrt()
        raw = ee.Image.constant(1).subtract(_dot(target, total).divide(norm))
        raw = raw.updateMask(count.gte(min_years)).rename("anomaly")
        region = self.context.region(aoi, None)

        def median(image: ee.Image) -> ee.Number:
            stats = image.reduceRegion(
                reducer=ee.Reducer.median(), geometry=region.geometry, crs=region.crs, scale=region.scale,
                maxPixels=self.context.max_pixels, bestEffort=False,
            )  # fmt: skip
            return ee.Number(stats.get("anomaly"))

        centre = median(raw)
        scale = median(raw.subtract(centre).abs().rename("anomaly")).multiply(MAD_TO_STD)
        return raw.addBands(raw.subtract(centre).divide(scale).rename("score"))

    # polygons and exports ------------------------------------------------------------------------------------
    def polygons(
        self, classes: ee.Image, region: Region, label: str = "class", *, simplify: float = 0.0, min_pixels: int = 1
    ) -> ee.FeatureCollection:
        """``reduceToVectors`` of an integer image (masked pixels become none): one polygon per 4-connected patch,
        with ``label``, its ``count`` of pixels and ``area_m2`` (pixels x the scale's pixel area)."""
        traced = classes.rename(label).reduceToVectors(
            reducer=ee.Reducer.countEvery(), geometry=region.geometry, crs=region.crs, scale=region.scale,
            geometryType="polygon", eightConnected=False, labelProperty=label, maxPixels=VECTOR_MAX_PIXELS,
        )  # fmt: skip
        traced = traced.filter(ee.Filter.gte("count", int(min_pixels)))
        pixel_m2 = float(region.scale) ** 2

        def finish(feature: ee.Feature) -> ee.Feature:
            feature = ee.Feature(feature)
            if simplify > 0:
                feature = feature.simplify(ee.ErrorMargin(simplify, "meters"))
            return feature.set("area_m2", ee.Number(feature.get("count")).multiply(pixel_m2))

        return traced.map(finish)

    def change_polygons(self, aoi: AOI, threshold: float, **options) -> ee.FeatureCollection:
        """Polygons of the pixels whose largest change is at least ``threshold``, labelled with its ``year``."""
        bands = self.change_years()
        years = bands.select("year").updateMask(bands.select("size").gte(float(threshold)))
        return self.polygons(years, self.context.region(aoi, None), "year", **options)

    def export_task(
        self, image: ee.Image, aoi: AOI, destination: str = "drive", description: str = "aef_temporal", **options
    ) -> ExportTask:
        """A batch export of a product image (any size) on the AOI's 10 m UTM grid, as a COG to Drive or Cloud
        Storage or as an asset; ``options`` as for ``start_export`` (``folder``, ``bucket``, ``no_data``...)."""
        geometry = aoi_geometry(aoi)
        grid = self.context.source.grid(aoi)
        return start_export(image.clip(geometry), grid, geometry, destination, description, **options)

    def polygons_geojson(self, collection: ee.FeatureCollection) -> dict:
        """The polygons as GeoJSON in WGS84: one request (small AOIs; export large ones as a table)."""
        with ee_errors("tracing polygons"):
            return collection.getInfo()

    def export_polygons(
        self, collection: ee.FeatureCollection, destination: str = "drive", description: str = "aef_polygons", **where
    ) -> ExportTask:
        """A batch export of polygons as GeoJSON to Drive or Cloud Storage (``bucket=``), or a table asset."""
        if destination not in DESTINATIONS:
            raise ValueError(f"destination must be one of {', '.join(DESTINATIONS)}, got {destination!r}")
        if destination == "drive":
            task = ee.batch.Export.table.toDrive(collection=collection, description=description,
                                                 fileFormat="GeoJSON", folder=where.get("folder"))  # fmt: skip
        elif destination == "gcs":
            if not where.get("bucket"):
                raise ValueError("an export to Cloud Storage needs bucket=")
            task = ee.batch.Export.table.toCloudStorage(collection=collection, description=description,
                                                        bucket=where["bucket"], fileFormat="GeoJSON")  # fmt: skip
        else:
            if not where.get("asset_id"):
                raise ValueError("an export to an asset needs asset_id=")
            task = ee.batch.Export.table.toAsset(collection=collection, description=description,
                                                 assetId=where["asset_id"])  # fmt: skip
        return ExportTask(task, destination).start()
