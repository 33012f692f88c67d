"""The land cover of the synthetic sample, year by year: fields along section roads, forest, a river with a
reservoir, a small town, and the planted events of ``synthetic_events``. Class ids only; ``synthetic`` turns them
into embedding vectors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .synthetic_events import BARE, CROPLAND, FOREST, GRASSLAND, URBAN, WATER, Event, plant_events


@dataclass(frozen=True)
class Scene:
    """Land cover of every year: class ids, blends, patch ids and nodata masks, each (rows, cols)."""

    labels: tuple[np.ndarray, ...]  # the first class of each pixel
    blend_labels: tuple[np.ndarray, ...]  # the second class, blended in at weight ``blend``
    blend: tuple[np.ndarray, ...]  # float32 weight of the second class (0 almost everywhere)
    truth: tuple[np.ndarray, ...]  # the dominant class
    patches: tuple[np.ndarray, ...]
    nodata: tuple[np.ndarray, ...]
    n_patches: int
    changes: tuple[str, ...]  # what happened before each year after the first
    events: tuple[Event, ...]


def build_scene(n: int, n_years: int, rng: np.random.Generator) -> Scene:
    """Land cover of ``n_years`` years on an n x n grid, with the events of ``synthetic_events`` planted."""
    s = n / 1024
    rr, cc = np.mgrid[:n, :n]
    lab = np.full((n, n), CROPLAND, dtype=np.uint8)
    patch = np.zeros((n, n), dtype=np.int32)  # patch 0: roads and streets
    next_id = 1

    def paint(mask: np.ndarray, cls: int | np.ndarray, ids: int | np.ndarray | None = None) -> None:
        nonlocal next_id
        lab[mask] = cls if np.isscalar(cls) else cls[mask]
        if ids is None:
            ids, next_id = next_id, next_id + 1
        patch[mask] = ids if np.isscalar(ids) else ids[mask]

    # fields: sections of about a mile, each split into a few rectangular fields
    sec = round(160 * s)
    r_off, c_off = (int(v) for v in rng.integers(0, sec, 2))
    for r0 in range(-r_off, n, sec):
        for c0 in range(-c_off, n, sec):
            for a, b, c, d in _split_section(r0, c0, sec, rng):
                cls = rng.choice([CROPLAND, GRASSLAND, BARE, FOREST], p=[0.72, 0.16, 0.07, 0.05])
                paint((rr >= a) & (rr < b) & (cc >= c) & (cc < d), int(cls))
    # forest blobs with irregular edges
    blob = smooth_noise(rng, n, 30 * s) + 0.3 * smooth_noise(rng, n, 5 * s)
    forest = blob > np.quantile(blob, 0.86)
    blobs, count = ndimage.label(forest)
    paint(forest, FOREST, blobs + next_id)
    next_id += count
    # the river flows west to east, lined by riparian trees; a reservoir sits on it
    x = np.arange(n)
    phase = rng.uniform(0, 2 * np.pi, 3)
    centre = (
        n * 0.68
        + 45 * s * np.sin(2 * np.pi * x / (0.6 * n) + phase[0])
        + 14 * s * np.sin(2 * np.pi * x / (0.17 * n) + phase[1])
    )
    dist = np.abs(rr - centre) / np.sqrt(1 + np.gradient(centre) ** 2)
    shore_width = (7 + 6 * np.sin(2 * np.pi * x / (0.23 * n) + phase[2])) * s
    paint(dist < shore_width + 2.5 * s, FOREST)
    lake_c = int(0.2 * n)
    lake_r = centre[lake_c] - 25 * s
    theta = np.arctan2(rr - lake_r, cc - lake_c)
    rho = np.hypot(rr - lake_r, cc - lake_c)
    k = rng.uniform(0, 2 * np.pi, 3)
    radius = 85 * s * (1 + 0.2 * np.sin(2 * theta + k[0]) + 0.1 * np.sin(3 * theta + k[1]))
    paint((rho < radius + 9 * s) & (lab != FOREST), GRASSLAND)  # a grassy shore
    lake = rho < radius
    paint(lake, WATER)
    river = dist < 2.5 * s
    paint(river, WATER, patch[lake][0])
    # the town: blocks on a street grid, its edge following whole blocks
    town_r, town_c, bs = 0.3 * n, 0.7 * n, round(22 * s)
    bi, bj = (rr - int(town_r)) // bs, (cc - int(town_c)) // bs
    block_r, block_c = (bi + 0.5) * bs, (bj + 0.5) * bs
    wobble = 0.2 * np.sin(3 * np.arctan2(block_r, block_c) + k[2])
    town = (block_r / (130 * s)) ** 2 + (block_c / (170 * s)) ** 2 < 1 + wobble
    street = ((rr - int(town_r)) % bs < 2) | ((cc - int(town_c)) % bs < 2)
    block_ids = (bi - bi.min()) * (bj.max() - bj.min() + 1) + (bj - bj.min()) + next_id
    block_cls = np.where(rng.random(int(block_ids.max()) + 1) < 0.1, GRASSLAND, URBAN)[block_ids]
    paint(town & ~street, block_cls, block_ids)
    next_id = int(block_ids.max()) + 1
    paint(town & street, URBAN, 0)
    # section roads (some missing) and a highway through the town
    for r0 in range(-r_off, n, sec):
        if r0 >= 0 and rng.random() < 0.8:
            paint((rr == r0) & ~town & ~lake, URBAN, 0)
    for c0 in range(-c_off, n, sec):
        if c0 >= 0 and rng.random() < 0.8:
            paint((cc == c0) & ~town & ~lake, URBAN, 0)
    slope = np.tan(np.radians(-10))
    paint((np.abs(rr - town_r - slope * (cc - town_c)) * np.cos(np.radians(10)) < 1.2) & ~lake, URBAN, 0)
    # the subdivision-to-be east of the town is fields until it is built
    east = town & (bj == bj[town].max())
    site = (bi >= bi[east].min()) & (bi <= bi[east].max()) & (bj > bj[east].max()) & (bj <= bj[east].max() + 3)
    site &= lab != WATER
    paint(site & (bi <= int(np.median(bi[site]))), CROPLAND)
    paint(site & (bi > int(np.median(bi[site]))), CROPLAND)

    shrink = (12 + 5 * np.sin(3 * theta + k[1])) * s
    ring = lake & (rho >= radius - shrink) & ~river
    shore = (ring & (rho < radius - 0.45 * shrink), ring & (rho >= radius - 0.45 * shrink))
    timeline, events, next_id = plant_events(
        lab, patch, n_years, next_id, rng, forest=forest, site=site, street=street, block_ids=block_ids,
        ring=shore, scale=s,
    )  # fmt: skip
    changes = tuple(
        "; ".join(f"{e.name}: {e.steps[i]}" for e in events if i in e.steps) or "no planted change"
        for i in range(1, n_years)
    )
    corner = (n - 1 - rr) + cc  # a nodata wedge in the south-west corner, like the edge of a swath, varying by
    # year so some pixels lack data in one year and have it in the next
    nodata = tuple(corner < (20 + 4 * ((3 * i) % 5)) * s for i in range(n_years))
    return Scene(
        labels=tuple(timeline.first),
        blend_labels=tuple(timeline.second),
        blend=tuple(timeline.weight),
        truth=tuple(timeline.dominant(i) for i in range(n_years)),
        patches=tuple(timeline.patches),
        nodata=nodata,
        n_patches=next_id,
        changes=changes,
        events=events,
    )


def _split_section(r0: int, c0: int, sec: int, rng: np.random.Generator) -> list[tuple[int, int, int, int]]:
    """Fields of one section as (row0, row1, col0, col1): whole, halves, quarters or strips."""
    r1, c1 = r0 + sec, c0 + sec
    rm, cm = r0 + sec // 2, c0 + sec // 2
    kind = rng.choice(4, p=[0.15, 0.35, 0.3, 0.2])
    if kind == 0:
        return [(r0, r1, c0, c1)]
    if kind == 1:
        return [(r0, rm, c0, c1), (rm, r1, c0, c1)] if rng.random() < 0.5 else [(r0, r1, c0, cm), (r0, r1, cm, c1)]
    if kind == 2:
        return [(a, b, c, d) for a, b in ((r0, rm), (rm, r1)) for c, d in ((c0, cm), (cm, c1))]
    cuts = np.linspace(c0, c1, int(rng.integers(3, 6)) + 1).astype(int)
    return [(r0, r1, int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:])]


def smooth_noise(rng: np.random.Generator, n: int, sigma: float, channels: int = 0) -> np.ndarray:
    """Gaussian random field(s) of unit variance and correlation length ``sigma`` px; (n, n) or (n, n, channels).

    Drawn at a coarser resolution and interpolated up, which is much cheaper and looks the same.
    """
    f = max(1, 2 ** int(np.log2(max(sigma / 1.5, 1))))
    m = n // f + 2
    field = rng.standard_normal((m, m, max(channels, 1)), dtype=np.float32)
    field = ndimage.gaussian_filter(field, (sigma / f, sigma / f, 0), mode="wrap")
    while f > 1:  # linear interpolation, one doubling at a time
        field, f = _double(_double(field, 0), 1), f // 2
    field = field[:n, :n]
    field /= field.std(axis=(0, 1))
    return field if channels else field[..., 0]


def _double(x: np.ndarray, axis: int) -> np.ndarray:
    x = np.moveaxis(x, axis, 0)
    out = np.empty((2 * len(x), *x.shape[1:]), dtype=x.dtype)
    out[::2] = x
    out[1:-1:2] = 0.5 * (x[:-1] + x[1:])
    out[-1] = x[-1]
    return np.moveaxis(out, 0, axis)
