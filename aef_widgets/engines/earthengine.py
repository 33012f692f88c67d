"""The Earth Engine engine: the same products as the local engine, computed on Google's servers.

Every product is an ``ee.Image`` built client-side without any request. Requests happen only when a product is
looked at: one map request per layer (the tiles then follow the view by themselves), one ``computeValue`` per area
or per set of sampled points. Nothing is ever requested in a loop.

Areas are measured in the AOI at 10 m in the UTM zone of its centre; without an AOI, in the view at about screen
resolution (a power-of-two multiple of 10 m), as the local engine does. Zoomed out, tiles come from Earth Engine's
pyramids, so what the map shows far out is computed on averaged embeddings, as in the Code Editor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ee
import numpy as np

from ..analysis.area import M2_PER_HA, ClassAreas
from ..analysis.composite import BandStretch, PCAComposite, PCAStretch, RGBStyle
from ..analysis.similarity import mean_reference, reference_similarity
from ..core.aoi import AOI
from ..core.bands import BAND_NAMES, N_BANDS
from ..core.errors import NoDataAtPoint, NoDataError, UsageError
from ..rendering.view import MapView
from ..sources.earthengine import (
    NATIVE_RESOLUTION,
    EarthEngineSource,
    aoi_geometry,
    crs_code,
    ee_errors,
    utm_crs,
    vectors_from_features,
)
from .base import AreaSummary, Engine, Progress, Tiles
from .earthengine_products import EERGB, EEChange, EEClusters, EESimilarity
from .memo import Memo

#: ``maxPixels`` of area requests; with ``bestEffort=False`` a larger region fails instead of coarsening silently.
MAX_PIXELS = 10**10
#: Pixels sampled to fit PCA colours (one request of about a megabyte of JSON).
PCA_SAMPLES = 2000


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


class EarthEngineEngine(Engine):
    """Products of an ``EarthEngineSource`` computed server-side."""

    def __init__(self, source: EarthEngineSource, *, max_pixels: int = MAX_PIXELS) -> None:
        self.source = source
        self.max_pixels = max_pixels
        self._pca: Memo[PCAComposite] = Memo(8)

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

    # products ---------------------------------------------------------------------------------------------
    def rgb(self, year: int, style: RGBStyle | None = None, region: AOI | MapView | None = None) -> EERGB:
        """A band composite, or PCA colours fitted on a sample of ``region`` (an AOI or a view)."""
        image = self.source.image(year)
        style = style or BandStretch()
        if isinstance(style, BandStretch):
            return EERGB(self, image.select(list(style.bands)), {"min": style.vmin, "max": style.vmax})
        if not isinstance(style, PCAStretch):
            raise TypeError(f"unknown RGB style {style!r}")
        where = self.region(region, None) if isinstance(region, AOI) else self.region(None, region)
        if where is None:
            raise NoDataError(
                "PCA colours on Earth Engine are fitted on a sample of an area: pass region=AOI or the map view, "
                "or use a band composite"
            )
        pca = self._pca.get((year, style, where.aoi, where.scale), lambda: self._fit_pca(year, style, where))
        scores = [
            embedding_dot(image, component).subtract(float(component @ pca.mean_))
            for component in pca.components_.astype(np.float64)
        ]
        vis = {"min": [float(v) for v in pca.low_], "max": [float(v) for v in pca.high_]}
        return EERGB(self, ee.Image.cat(scores).rename(["pc1", "pc2", "pc3"]), vis)

    def _fit_pca(self, year: int, style: PCAStretch, region: Region) -> PCAComposite:
        sample = (
            self.source.image(year)
            .select(list(BAND_NAMES))
            .sample(region=region.geometry, scale=region.scale, projection=region.crs, numPixels=PCA_SAMPLES, seed=0)
        )
        with ee_errors("sampling pixels for PCA colours"):
            info = sample.getInfo()
        vectors = vectors_from_features(info, len((info or {}).get("features", [])))
        return PCAComposite(percentiles=style.percentiles).fit(vectors)

    def similarity(
        self, year: int, points: Sequence[tuple[float, float]], aoi: AOI | None = None,
        negatives: Sequence[tuple[float, float]] = (),
    ) -> EESimilarity:  # fmt: skip
        if negatives:
            from .earthengine_classify import ee_contrast  # it builds on this module

            return ee_contrast(self, year, points, negatives, aoi)
        self.source.check_year(year)
        if not points:
            raise NoDataError("click the map to choose a reference pixel")
        vectors = self.source.sample(points, year)  # one request for all points
        if not np.isfinite(vectors[-1]).all():
            raise NoDataAtPoint("there is no embedding at that point; click where the map has data")
        # the mean of the per-reference similarities is the similarity to the mean of the unit references
        reference = mean_reference(vectors)
        readout = reference_similarity(vectors[-1], vectors)
        values = embedding_dot(unit_image(self.source.image(year)), reference).rename("similarity")
        return EESimilarity(self, year, values, reference, readout, aoi)

    def change(self, year_a: int, year_b: int, aoi: AOI | None = None) -> EEChange:
        self.source.check_year(year_a)
        self.source.check_year(year_b)
        if year_a == year_b:
            raise UsageError("choose two different years to see change")
        before, after = unit_image(self.source.image(year_a)), unit_image(self.source.image(year_b))
        dot = before.multiply(after).reduce(ee.Reducer.sum())
        values = ee.Image.constant(1).subtract(dot).rename("change")
        return EEChange(self, year_a, year_b, values, aoi)

    def clusters(
        self,
        year: int,
        aoi: AOI | None,
        view: MapView | None,
        n_clusters: int,
        n_samples: int = 500,
        seed: int = 0,
        progress: Progress | None = None,
    ) -> EEClusters:
        """K-means on Earth Engine: sample the region, train ``wekaKMeans``, label every pixel (one request)."""
        self.source.check_year(year)
        if not 2 <= int(n_clusters) <= 255:
            raise UsageError(f"n_clusters must be between 2 and 255, got {n_clusters}")
        if int(n_samples) < int(n_clusters):
            raise UsageError(f"n_samples ({n_samples}) must be at least n_clusters ({n_clusters})")
        region = self.region(aoi, view)
        if region is None:
            raise NoDataError("draw an AOI (or show the map view) to cluster on Earth Engine")
        report = progress or (lambda fraction, message: None)
        image = self.source.image(year).select(list(BAND_NAMES))
        training = image.sample(
            region=region.geometry, scale=region.scale, projection=region.crs, numPixels=int(n_samples),
            seed=int(seed), dropNulls=True,
        )  # fmt: skip
        # k-means++ seeding (init=1), as scikit-learn does, so both engines start alike
        clusterer = ee.Clusterer.wekaKMeans(nClusters=int(n_clusters), init=1, seed=int(seed)).train(
            features=training, inputProperties=list(BAND_NAMES)
        )
        labels = image.cluster(clusterer, "cluster")
        report(0.1, "sampling, training and labelling on Earth Engine")
        areas = self.class_areas(labels, int(n_clusters), region)
        report(1.0, "done")
        return EEClusters(self, year, labels, int(n_clusters), areas, region)

    def classes(
        self,
        year: int,
        points: Sequence[tuple[float, float]],
        targets: Sequence[int],
        n_classes: int,
        aoi: AOI | None,
        view: MapView | None,
        method: str = "auto",
        seed: int = 0,
        progress: Progress | None = None,
    ):
        """``earthengine_classes.ee_classes``: the class map trained and drawn on Earth Engine."""
        from .earthengine_classes import ee_classes  # it builds on this module

        return ee_classes(self, year, points, targets, n_classes, aoi, view, method, seed, progress)


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
