"""A small thread-safe LRU memo whose concurrent requests for one key share one computation."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

from ..core.memory import nbytes_of

T = TypeVar("T")


class Memo(Generic[T]):
    """Remembers the last ``size`` results, and no more than ``max_bytes`` of arrays (the newest is always kept);
    a key being computed by one thread is awaited by the others."""

    def __init__(self, size: int, max_bytes: int | None = None) -> None:
        self.size, self.max_bytes = size, max_bytes
        self._bytes: dict[Hashable, int] = {}
        self._done: OrderedDict[Hashable, T] = OrderedDict()
        self._running: dict[Hashable, Future] = {}
        self._lock = threading.Lock()

    def peek(self, key: Hashable) -> T | None:
        """The result for ``key`` if it is already computed, else None (nothing is computed or reordered)."""
        with self._lock:
            return self._done.get(key)

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key]
            future = self._running.get(key)
            owner = future is None
            if owner:
                future = self._running[key] = Future()
        if not owner:
            return future.result()
        try:
            value = compute()
        except BaseException as e:
            future.set_exception(e)
            raise
        finally:
            with self._lock:
                self._running.pop(key, None)
        weight = nbytes_of(value) if self.max_bytes is not None else 0
        with self._lock:
            self._done[key], self._bytes[key] = value, weight
            while len(self._done) > self.size or (len(self._done) > 1 and self.held_bytes > (self.max_bytes or 0)):
                self._bytes.pop(self._done.popitem(last=False)[0], None)
        future.set_result(value)
        return value

    def __len__(self) -> int:
        """Results held."""
        return len(self._done)

    @property
    def held_bytes(self) -> int:
        """Bytes of arrays held (0 unless the memo is bounded by bytes)."""
        return sum(self._bytes.values()) if self.max_bytes is not None else 0
