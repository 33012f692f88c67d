"""Memo bounded by count and by bytes: the caches a visitor's kernel keeps (issue 22)."""

from __future__ import annotations

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from aef_widgets.core.field import EmbeddingField
from aef_widgets.core.grid import Grid
from aef_widgets.core.memory import budget_bytes, nbytes_of
from aef_widgets.engines.memo import Memo

MIB = 2**20


def test_a_byte_bound_drops_the_oldest_and_always_keeps_the_newest():
    memo: Memo[np.ndarray] = Memo(10, max_bytes=3 * MIB)
    for key in range(5):
        memo.get(key, lambda: np.zeros(MIB, dtype=np.uint8))
    assert list(memo._done) == [2, 3, 4] and memo.held_bytes == 3 * MIB
    big = memo.get("big", lambda: np.zeros(10 * MIB, dtype=np.uint8))
    assert list(memo._done) == ["big"] and memo.held_bytes == big.nbytes  # too big to share, still remembered
    calls = []
    memo.get("big", lambda: calls.append(1))
    assert calls == []


def test_without_a_byte_bound_only_the_count_bounds():
    memo: Memo[np.ndarray] = Memo(2)
    for key in range(4):
        memo.get(key, lambda: np.zeros(4 * MIB, dtype=np.uint8))
    assert list(memo._done) == [2, 3] and memo.held_bytes == 0


def test_the_bytes_of_a_cached_field_are_its_arrays(monkeypatch):
    grid = Grid(Affine(10, 0, 500_000, 0, -10, 4_000_000), 10, 8, CRS.from_epsg(32616))
    values = np.zeros((8, 10, 64), dtype=np.float32)
    mask = np.ones((8, 10), dtype=bool)
    field = EmbeddingField(values, mask, grid)
    assert nbytes_of(field) == field.values.nbytes + field.mask.nbytes == 8 * 10 * (64 * 4 + 1)
    assert nbytes_of((values, mask)) == values.nbytes + mask.nbytes
    monkeypatch.setenv("AEF_WIDGETS_ENGINE_CACHE_MB", "12")
    assert budget_bytes("AEF_WIDGETS_ENGINE_CACHE_MB", 96) == 12 * MIB
    monkeypatch.setenv("AEF_WIDGETS_ENGINE_CACHE_MB", "lots")
    assert budget_bytes("AEF_WIDGETS_ENGINE_CACHE_MB", 96) == 96 * MIB
