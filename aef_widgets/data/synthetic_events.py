"""What happens to the synthetic landscape from year to year: planted events of different shapes, with truth.

A year's land cover is a pair of classes per pixel and a blend weight: a pixel is ``(1 - w)`` of its first class
and ``w`` of its second (``w = 0`` almost everywhere), so a slow change or a regrowth moves a pixel's vector a
little each year instead of jumping between two classes. For the default years 2018-2025 the events are:

- **fire** (abrupt, then recovery): a forest stand burns in 2019 (forest -> bare) and regrows over the next four
  years, through grassland, back to forest;
- **clearing** (abrupt): a clear-cut in the deepest forest in 2023 (forest -> bare);
- **construction** (abrupt): a subdivision east of the town is built on fields in 2024 (cropland -> urban);
- **reservoir** (temporary): the reservoir's shore is exposed in 2024 (water -> bare and grassland) and refills in
  2025;
- **abandonment** (gradual): two fields turn from cropland to grassland by an equal step every year, too small to
  see between consecutive years but plain over the whole period.

Events are placed by year index (fire in the second year, clearing three years before the last, ...), so any run
of at least five years has all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

WATER, FOREST, CROPLAND, GRASSLAND, BARE, URBAN = range(6)
MIN_YEARS = 5
#: The fire scar's path back to forest: (first class, second class, weight of the second), one entry a year.
_REGROWTH = ((BARE, BARE, 0.0), (BARE, GRASSLAND, 0.5), (GRASSLAND, FOREST, 0.35), (GRASSLAND, FOREST, 0.7))


@dataclass(frozen=True)
class Event:
    """One planted event: where, what kind, and the year indices in which it changes the land cover."""

    name: str
    kind: str  # "abrupt", "recovery", "temporary" or "gradual"
    mask: np.ndarray  # (rows, cols) bool
    main: int | None  # index of the year with the largest change (the first year that shows it); None if gradual
    steps: dict[int, str] = field(default_factory=dict)  # year index -> what changed into that year


@dataclass
class Timeline:
    """Per-year class pairs, blend weights and patch ids, edited event by event."""

    first: list[np.ndarray]
    second: list[np.ndarray]
    weight: list[np.ndarray]
    patches: list[np.ndarray]

    @classmethod
    def constant(cls, labels: np.ndarray, patches: np.ndarray, n_years: int) -> Timeline:
        return cls(
            [labels.copy() for _ in range(n_years)],
            [labels.copy() for _ in range(n_years)],
            [np.zeros(labels.shape, np.float32) for _ in range(n_years)],
            [patches.copy() for _ in range(n_years)],
        )

    def set(self, years: range, mask: np.ndarray, cls: int, to: int | None = None, w: float = 0.0, ids=None) -> None:
        """From the years given on, ``mask`` is ``cls`` blended with ``to`` at weight ``w`` (patch ids ``ids``)."""
        for i in years:
            self.first[i][mask] = cls
            self.second[i][mask] = cls if to is None else to
            self.weight[i][mask] = w
            if ids is not None:
                self.patches[i][mask] = ids if np.isscalar(ids) else ids[mask]

    def dominant(self, i: int) -> np.ndarray:
        """The class making up most of each pixel in year ``i`` (the truth label)."""
        return np.where(self.weight[i] >= 0.5, self.second[i], self.first[i]).astype(np.uint8)


def plant_events(
    lab: np.ndarray,
    patch: np.ndarray,
    n_years: int,
    next_id: int,
    rng: np.random.Generator,
    *,
    forest: np.ndarray,
    site: np.ndarray,
    street: np.ndarray,
    block_ids: np.ndarray,
    ring: tuple[np.ndarray, np.ndarray],
    scale: float,
) -> tuple[Timeline, tuple[Event, ...], int]:
    """The timeline of ``n_years`` years starting from the base land cover, the events planted, and the next
    free patch id. ``ring`` is the reservoir's shore exposed when it shrinks: (the bare part, the grassy part)."""
    if n_years < MIN_YEARS:
        raise ValueError(f"the sample's events need at least {MIN_YEARS} years, got {n_years}")
    n = lab.shape[0]
    rr, cc = np.mgrid[:n, :n]
    t = Timeline.constant(lab, patch, n_years)
    last = n_years - 1
    stands, _ = ndimage.label(forest & (lab == FOREST))  # natural stands, not woodlots
    depth = ndimage.distance_transform_edt(stands > 0)

    # clearing: a rectangle in the deepest stand
    r, c = np.unravel_index(np.argmax(depth), depth.shape)
    cut = (np.abs(rr - r) < 26 * scale) & (np.abs(cc - c) < 36 * scale) & (lab == FOREST)
    t.set(range(last - 2, n_years), cut, BARE, ids=next_id)
    clearing = Event("clearing", "abrupt", cut, last - 2, {last - 2: "forest -> bare (clear-cut)"})

    # fire: a round burn in the deepest other stand, then regrowth
    other = np.where(stands == stands[r, c], 0, depth)
    r, c = np.unravel_index(np.argmax(other), other.shape)
    burn = (np.hypot(rr - r, cc - c) < 30 * scale) & (stands == stands[r, c])
    for k, (cls, to, w) in enumerate(_REGROWTH):
        t.set(range(1 + k, n_years), burn, cls, to, w, ids=next_id + 1)
    t.set(range(1 + len(_REGROWTH), n_years), burn, FOREST)
    fire = Event(
        "fire",
        "recovery",
        burn,
        1,
        {1: "forest -> bare (burnt)", **{1 + k: "regrowth" for k in range(1, len(_REGROWTH) + 1) if 1 + k < n_years}},
    )

    # construction: the subdivision east of the town
    t.set(range(last - 1, n_years), site & street, URBAN, ids=0)
    t.set(range(last - 1, n_years), site & ~street, URBAN, ids=block_ids)
    construction = Event("construction", "abrupt", site.copy(), last - 1, {last - 1: "cropland -> urban"})

    # reservoir: the shore is exposed for one year, then the water returns
    bare_shore, grassy_shore = ring
    shore = bare_shore | grassy_shore
    t.set(range(last - 1, last), bare_shore, BARE)
    t.set(range(last - 1, last), grassy_shore, GRASSLAND)
    reservoir = Event(
        "reservoir", "temporary", shore, last - 1, {last - 1: "water -> bare and grassland", last: "refilled"}
    )

    # abandonment: two whole cropland fields, away from every other event, turn to grassland a step a year
    busy = ndimage.binary_dilation(cut | burn | site | shore, iterations=max(1, int(8 * scale)))
    sizes = np.bincount(patch[(lab == CROPLAND)].ravel(), minlength=int(patch.max()) + 1)
    touched = np.unique(patch[busy | (lab != CROPLAND)])
    sizes[touched] = 0
    sizes[0] = 0
    candidates = np.flatnonzero(sizes > 0.5 * np.quantile(sizes[sizes > 0], 0.75))
    fields = rng.choice(candidates, 2, replace=False)
    slow = np.isin(patch, fields) & (lab == CROPLAND)
    for i in range(n_years):
        t.set(range(i, i + 1), slow, CROPLAND, GRASSLAND, i / last)
    abandonment = Event(
        "abandonment", "gradual", slow, None, {i: "cropland -> grassland, one step" for i in range(1, n_years)}
    )
    return t, (fire, clearing, construction, reservoir, abandonment), next_id + 2
