"""Fields: a layer of polygons (fields, parcels, blocks) and one number per field computed from their embeddings.

The per-field table is ``zonal_embeddings`` of the layer for a year: each field's coverage-weighted mean of its unit
pixel vectors, renormalised. The per-field products read that table only:

- ``clusters``: k-means of the fields' mean vectors (``analysis.kmeans.EmbeddingKMeans``, fields as samples);
- ``similarity``: fields like a clicked one, the cosine of each field's unit mean with the clicked field's;
- ``change``: 1 minus the cosine of each field's unit means in the two change years (0: unchanged);
- ``steps``: over all the years the source has, each field's largest change between one year and the next with data
  (1 minus the cosine of its means), and the year it changed in (``changed_in``), a field's trajectory in two
  numbers;
- ``classes``: a classifier (``analysis.classify.EmbeddingClassifier``, ``auto``) trained on the fields that have a
  label in a column of the layer, applied to every field, its accuracy cross-validated in spatial blocks of fields.

The field chosen (clicked, or chosen in the list: ``field_chosen``) has its trajectory (``TRAJECTORY``): its change
from its first year and from the year before, in every year, from ``zonal_trajectories`` of that one field.

A field without data (``pixels`` 0) gets no value (NaN, or cluster -1), never a made-up one. The value is frozen
(``FieldValues``): what it was computed for travels with it, and the reader context is given, never kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from traitlets import Enum, Instance, Int, Unicode

from ..analysis.kmeans import MAX_KMEANS_SAMPLES, NO_CLASS, EmbeddingKMeans
from ..core.bands import BAND_NAMES
from ..core.errors import NoDataError, UsageError
from ..engines.base import token_field
from .declare import Family, Kind, Node

if TYPE_CHECKING:  # geopandas costs a second to import: loaded when a layer is
    import geopandas as gpd

PRODUCTS = {"clusters": "K-means cluster", "similarity": "Similarity", "change": "Change",
            "steps": "Largest yearly change", "classes": "Class"}  # fmt: skip
COLUMNS = {"clusters": "cluster", "similarity": "similarity", "change": "change", "steps": "largest_change",
           "classes": "class"}  # fmt: skip


@dataclass(frozen=True, eq=False)
class FieldLayer:
    """A checked layer of polygons (``analysis.geotable.read_polygons``) and the name it was loaded from. Equal
    only to itself: a layer loaded again is a new layer, with a new ``token`` (what its tables are remembered by)."""

    name: str
    table: gpd.GeoDataFrame
    token: str = token_field()

    def __len__(self) -> int:
        return len(self.table)


#: The Fields tab's node: the per-field product of the loaded layer, recomputed when any named input moves.
PRODUCT = Node(
    "fields",
    ("source", "year", "field_layer", "field_product", "field_clusters", "field_reference", "change_years",
     "field_labels", "cv_block_size"),
)  # fmt: skip
#: The fields coloured by their product: a raster of field ids drawn as one image (see ``rendering.field_ids``).
KIND = Kind("fields", "fields", opacity=0.8, crisp=True)
#: The chosen field's change over every year (``engines.zonal_trajectories``), charted under the list.
TRAJECTORY = Node("field trajectory", ("source", "field_layer", "field_chosen"))
#: The chosen field's outline, above the coloured fields (declared after ``KIND``: stacked above it).
OUTLINE = Kind("field outline", "fields")

FIELDS = Family(
    "fields", nodes=(PRODUCT, TRAJECTORY), kinds=(KIND, OUTLINE),
    traits={
        "field_layer": Instance(FieldLayer, allow_none=True, help="The polygons of the Fields tab"),
        "field_product": Enum(tuple(PRODUCTS), "clusters", help="What colours the fields"),
        "field_clusters": Int(5, min=2, max=50, help="How many k-means clusters of fields"),
        "field_reference": Int(-1, min=-1, help="Position of the clicked field similarity is measured to (-1: none)"),
        "field_labels": Unicode("", help="The layer's column naming the labelled fields' classes (empty: none)"),
        "field_chosen": Int(-1, min=-1, help="Position of the field clicked or chosen in the list (-1: none)"),
    },
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class FieldValues:
    """One number per field of ``layer`` (``values``, in the layer's order) and the per-field table it came from
    (``table``: the layer's columns, ``year``, ``pixels``, ``coverage``, ``A00``..``A63``, ``spread``)."""

    layer: FieldLayer
    product: str
    year: int
    table: gpd.GeoDataFrame
    values: np.ndarray
    note: str = ""
    #: The class names, for ``classes`` (``values`` are their positions, -1 without data).
    classes: tuple = ()
    #: More columns of the product: (name, one value per field).
    extra: tuple[tuple[str, np.ndarray], ...] = ()

    @property
    def column(self) -> str:
        """The name of the product's column in ``frame()``."""
        return COLUMNS[self.product]

    @property
    def categorical(self) -> bool:
        return self.product in ("clusters", "classes")

    def frame(self) -> gpd.GeoDataFrame:
        """The per-field table with the product as a column (class names for classes): what the table shows and
        the exports write."""
        out = self.table.copy()
        if self.product == "classes":
            out[self.column] = [self.classes[i] if i >= 0 else None for i in self.values]
        else:
            out[self.column] = self.values
        for name, column in self.extra:
            out[name] = column
        return out


def field_table(ctx: Any, layer: FieldLayer, year: int) -> gpd.GeoDataFrame:
    """``zonal_embeddings`` of the layer for one year, remembered by the context per layer and year."""
    from ..engines.tables import zonal_embeddings  # geopandas and the zonal machinery: only once fields are loaded

    def compute() -> gpd.GeoDataFrame:
        return zonal_embeddings(ctx.source, layer.table, year, executor=getattr(ctx, "executor", None))

    memo = getattr(ctx, "memo", None)
    return compute() if memo is None else memo((layer.token, year), compute)


def field_trajectory(ctx: Any, layer: FieldLayer, position: int) -> gpd.GeoDataFrame:
    """``zonal_trajectories`` of one field of the layer over every year, remembered per layer and field."""
    from ..engines.zonal_trajectories import zonal_trajectories

    if not 0 <= position < len(layer):
        raise UsageError("click a field on the map or choose one in the list to chart its years")

    def compute() -> gpd.GeoDataFrame:
        return zonal_trajectories(ctx.source, layer.table.iloc[[position]], executor=getattr(ctx, "executor", None))

    memo = getattr(ctx, "memo", None)
    return compute() if memo is None else memo((layer.token, "trajectory", position), compute)


def vectors(table: gpd.GeoDataFrame) -> np.ndarray:
    """(n, 64) float64 unit mean vectors of the fields (NaN rows: no data)."""
    return table[list(BAND_NAMES)].to_numpy(dtype=np.float64)


def field_clusters(v: np.ndarray, n_clusters: int) -> np.ndarray:
    """k-means cluster of every field's vector (int, ``NO_CLASS`` without data); the fields are the samples."""
    valid = np.isfinite(v).all(axis=1)
    if valid.sum() < n_clusters:
        have = f"{int(valid.sum())} field has" if valid.sum() == 1 else f"{int(valid.sum())} fields have"
        raise NoDataError(f"only {have} data, too few for {n_clusters} clusters; choose fewer clusters")
    model = EmbeddingKMeans(n_clusters, min(int(valid.sum()), MAX_KMEANS_SAMPLES), random_state=0).fit(v[valid])
    labels = np.full(len(v), NO_CLASS, dtype=np.int64)
    labels[valid] = model.kmeans_.labels_
    return labels


def field_similarity(v: np.ndarray, reference: int) -> np.ndarray:
    """Cosine of every field's unit mean with that of field ``reference`` (position in the layer)."""
    if not 0 <= reference < len(v):
        raise UsageError("click a field on the map to find the fields like it")
    if not np.isfinite(v[reference]).all():
        raise NoDataError("the clicked field has no data in this year; click another")
    return np.clip(v @ v[reference], -1.0, 1.0)


def field_change(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """1 minus the cosine of each field's unit means in two years (0 unchanged, up to 2); NaN without data."""
    return 1.0 - np.clip(np.einsum("ij,ij->i", before, after), -1.0, 1.0)


def field_values(
    ctx: Any, year: int, layer: FieldLayer, product: str, n_clusters: int, reference: int, years: tuple[int, int],
    labels: str = "", block_size: float = 1000.0,
) -> FieldValues:  # fmt: skip
    """The per-field ``product`` of ``layer`` on the engine whose reader context is ``ctx`` (local or Earth
    Engine): for ``year``, or between the two ``years`` for change; classes learnt from the ``labels`` column,
    cross-validated in spatial blocks of ``block_size`` metres."""
    if product not in PRODUCTS:
        raise UsageError(f"no per-field product {product!r}; choose one of {', '.join(PRODUCTS)}")
    if product == "change":
        first, second = years
        table = field_table(ctx, layer, second)
        values = field_change(vectors(field_table(ctx, layer, first)), vectors(table))
        return FieldValues(layer, product, second, table, values, f"change from {first} to {second}")
    if product == "steps":
        return field_steps(ctx, layer)
    table = field_table(ctx, layer, year)
    v = vectors(table)
    if product == "clusters":
        return FieldValues(layer, product, year, table, field_clusters(v, n_clusters), f"{n_clusters} clusters")
    if product == "classes":
        from .field_classes import field_classes  # scikit-learn: only once fields are classified

        found, names, note = field_classes(v, layer.table, labels, block_size)
        return FieldValues(layer, product, year, table, found, note, names)
    return FieldValues(layer, product, year, table, field_similarity(v, reference), f"like field {reference + 1}")


def field_steps(ctx: Any, layer: FieldLayer) -> FieldValues:
    """Each field's largest change from one year to the next over all the source's years, and the later year; a
    year without data is skipped (the next year is compared with the last that had data), as the chart does."""
    from ..engines.zonal_trajectories import trajectory_changes

    years = list(ctx.source.years)
    if len(years) < 2:
        raise NoDataError("the source has one year only: there is no change between years to find")
    means = np.stack([vectors(field_table(ctx, layer, y)) for y in years], axis=1)  # (fields, years, 64)
    steps = trajectory_changes(means)[1]  # (fields, years), NaN for a field's first year with data
    has = np.isfinite(steps).any(axis=1)
    largest = np.full(len(steps), np.nan)
    changed_in = np.full(len(steps), -1, dtype=np.int64)
    at = np.argmax(np.where(np.isfinite(steps), steps, -np.inf), axis=1)
    largest[has] = steps[has, at[has]]
    changed_in[has] = np.asarray(years)[at[has]]
    table = field_table(ctx, layer, years[-1])
    note = f"{years[0]} to {years[-1]}"
    return FieldValues(layer, "steps", years[-1], table, largest, note, extra=(("changed_in", changed_in),))
