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

import ee
import numpy as np

from ..analysis.area import ClassAreas
from ..analysis.composite import BandStretch, PCAComposite, PCAStretch, RGBStyle
from ..analysis.similarity import mean_reference, reference_similarity
from ..core.aoi import AOI
from ..core.bands import BAND_NAMES
from ..core.errors import NoDataAtPoint, NoDataError, UsageError
from ..rendering.view import MapView
from ..sources.earthengine import EarthEngineSource, ee_errors, vectors_from_features
from .base import AreaSummary, Engine, Progress, Tiles
from .earthengine_products import EERGB, EEChange, EEClusters, EESimilarity
from .ee_context import MAX_PIXELS, EEContext, Region, embedding_dot, unit_image
from .memo import Memo

#: Pixels sampled to fit PCA colours (one request of about a megabyte of JSON).
PCA_SAMPLES = 2000


class EarthEngineEngine(Engine):
    """Products of an ``EarthEngineSource`` computed server-side."""

    def __init__(self, source: EarthEngineSource, *, max_pixels: int = MAX_PIXELS) -> None:
        self.source = source
        self.max_pixels = max_pixels
        self.context = EEContext(source, max_pixels)
        self._pca: Memo[PCAComposite] = Memo(8)

    # where things are measured and drawn: the context's, named here as before ------------------------------
    def region(self, aoi: AOI | None, view: MapView | None) -> Region | None:
        return self.context.region(aoi, view)

    def tiles(self, image: ee.Image, vis: dict, action: str) -> Tiles:
        return self.context.tiles(image, vis, action)

    def area_above(self, values: ee.Image, threshold: float, region: Region | None) -> AreaSummary:
        return self.context.area_above(values, threshold, region)

    def class_areas(self, labels: ee.Image, n_classes: int, region: Region) -> ClassAreas:
        return self.context.class_areas(labels, n_classes, region)

    # products ---------------------------------------------------------------------------------------------
    def rgb(self, year: int, style: RGBStyle | None = None, region: AOI | MapView | None = None) -> EERGB:
        """A band composite, or PCA colours fitted on a sample of ``region`` (an AOI or a view)."""
        image = self.source.image(year)
        style = style or BandStretch()
        if isinstance(style, BandStretch):
            return EERGB(image.select(list(style.bands)), {"min": style.vmin, "max": style.vmax})
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
        return EERGB(ee.Image.cat(scores).rename(["pc1", "pc2", "pc3"]), vis)

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

            return ee_contrast(self.context, year, points, negatives, aoi)
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
        return EESimilarity(year, values, reference, readout, aoi)

    def change(self, year_a: int, year_b: int, aoi: AOI | None = None) -> EEChange:
        self.source.check_year(year_a)
        self.source.check_year(year_b)
        if year_a == year_b:
            raise UsageError("choose two different years to see change")
        before, after = unit_image(self.source.image(year_a)), unit_image(self.source.image(year_b))
        dot = before.multiply(after).reduce(ee.Reducer.sum())
        values = ee.Image.constant(1).subtract(dot).rename("change")
        return EEChange(year_a, year_b, values, aoi)

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
        return EEClusters(year, labels, int(n_clusters), areas, region)

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

        return ee_classes(self.context, year, points, targets, n_classes, aoi, view, method, seed, progress)
