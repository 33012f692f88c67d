"""The one model every widget links to: what is being looked at, and how.

Widgets never talk to each other. Each links its ``value`` to a trait here, and what recomputes when a trait changes
is decided in one place, the flow (``flow.GRAPH``, built from ``aef_widgets.products``), so any set of widgets
composes around one ``ExplorerState``.
"""

from __future__ import annotations

from concurrent.futures import Executor

from traitlets import (
    Float,
    Instance,
    Int,
    List,
    TraitError,
    Tuple,
    Unicode,
    Union,
    default,
    observe,
    validate,
)

from ..analysis.composite import BandStretch, PCAStretch
from ..analysis.kmeans import MAX_KMEANS_SAMPLES
from ..core.aoi import AOI
from ..engines import Engine, engine_for
from ..products.registry import state_class
from ..rendering.view import MapView
from ..sources.base import EmbeddingSource
from ..sources.labels import LabelPoint

#: The state traits product families declare themselves (an index's weights and threshold, say).
FamilyTraits = state_class()


class ExplorerState(FamilyTraits):
    """Shared state of the widgets around one map: the traits below, and those the product families declare
    (``products.registry.state_traits``)."""

    source = Instance(EmbeddingSource)
    """Where the embeddings come from."""

    engine = Instance(Engine, read_only=True)
    """Computes products for ``source``; replaced whenever the source changes."""

    year = Int()
    """The year every single-year product shows."""

    rgb_style = Union([Instance(BandStretch), Instance(PCAStretch)])
    """How the RGB layer is drawn: three stretched bands or the principal components."""

    aoi = Instance(AOI, allow_none=True)
    """The area of interest: clusters and areas are computed inside it. None means the current view."""

    probe_points = List(Tuple(Float(), Float()))
    """Reference pixels of the similarity probe, as (lon, lat)."""

    negative_points = List(Tuple(Float(), Float()))
    """Negative references of the similarity probe ("not like that"), as (lon, lat)."""

    similarity_threshold = Float(0.9)
    """Similarity at or above which a pixel counts as a match (0.9 as in the Earth Engine tutorial)."""

    change_years = Tuple(Int(), Int())
    """The two years compared by the change map, (before, after)."""

    change_threshold = Float(0.3)
    """Change (1 - dot product) at or above which a pixel counts as changed."""

    anomaly_threshold = Float(3.0)
    """Robust anomaly score (typical spreads above the AOI's median departure) at or above which a year is odd."""

    n_clusters = Int(5)
    """Number of k-means clusters."""

    n_samples = Int(500)
    """Random valid pixels k-means is fitted on."""

    label_classes = List(Tuple(Unicode(), Unicode()))
    """The classes of the classifier, as (name, colour); a label's target is its index here."""

    class_labels = List(Instance(LabelPoint))
    """Labelled points of the classifier (target: index into ``label_classes``). One writer: the classify panel."""

    cv_block_size = Float(1000.0)
    """Side of the spatial blocks of the honest cross-validation, in metres."""

    view = Instance(MapView, allow_none=True)
    """What the map currently shows; None until a map reports its bounds."""

    def __init__(self, source: EmbeddingSource | None = None, *, executor: Executor | None = None, **kwargs) -> None:
        #: Where the local engine runs whole-AOI work: this process's threads, or e.g. ``Client.get_executor()``.
        self.executor = executor
        if source is None:
            from ..sources.sample import sample_source  # the default, generated on first use

            source = sample_source()
        super().__init__(source=source, **kwargs)

    @default("year")
    def _default_year(self) -> int:
        return self.source.years[-1]

    @default("rgb_style")
    def _default_style(self) -> BandStretch:
        return BandStretch()

    @default("change_years")
    def _default_change_years(self) -> tuple[int, int]:
        years = self.source.years
        return (years[0], years[-1])

    @default("engine")
    def _default_engine(self) -> Engine:
        return engine_for(self.source, self.executor)

    @observe("source")
    def _source_changed(self, change) -> None:
        if change["old"] is None:
            return
        years = change["new"].years
        # one change for whoever observes: they see the new source with its years, never a mix of old and new
        with self.hold_trait_notifications():
            self.set_trait("engine", engine_for(change["new"], self.executor))
            self.probe_points = []
            self.negative_points = []
            self.year = years[-1]
            self.change_years = (years[0], years[-1])

    @validate("year")
    def _check_year(self, proposal) -> int:
        year = proposal["value"]
        if year not in self.source.years:
            have = ", ".join(map(str, self.source.years))
            raise TraitError(f"{self.source.name} has no data for {year}; years available: {have}")
        return year

    @validate("change_years")
    def _check_change_years(self, proposal) -> tuple[int, int]:
        for year in proposal["value"]:
            self._check_year({"value": year})
        return proposal["value"]

    @validate("n_clusters")
    def _check_k(self, proposal) -> int:
        if not 2 <= proposal["value"] <= 20:
            raise TraitError(f"choose between 2 and 20 clusters, not {proposal['value']}")
        return proposal["value"]

    @validate("n_samples")
    def _check_samples(self, proposal) -> int:
        if proposal["value"] < 10:
            raise TraitError("k-means needs a sample of at least 10 pixels")
        if proposal["value"] > MAX_KMEANS_SAMPLES:
            raise TraitError(
                f"k-means samples at most {MAX_KMEANS_SAMPLES:,} pixels, not {proposal['value']:,}: a larger sample "
                "makes it slower and bigger, not its clusters better"
            )
        return proposal["value"]

    @validate("anomaly_threshold")
    def _check_anomaly_threshold(self, proposal) -> float:
        if not -10.0 <= proposal["value"] <= 100.0:
            raise TraitError(f"anomaly thresholds lie between -10 and 100 spreads, not {proposal['value']}")
        return proposal["value"]

    @validate("cv_block_size")
    def _check_block(self, proposal) -> float:
        if not proposal["value"] > 0:
            raise TraitError(f"the block size must be a positive number of metres, not {proposal['value']}")
        return proposal["value"]

    @validate("similarity_threshold", "change_threshold")
    def _check_threshold(self, proposal) -> float:
        if not -1.0 <= proposal["value"] <= 2.0:
            raise TraitError(f"thresholds lie between -1 and 2, not {proposal['value']}")
        return proposal["value"]
