"""A small thread-safe LRU memo whose concurrent requests for one key share one computation."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")


class Memo(Generic[T]):
    """Remembers the last ``size`` results; a key being computed by one thread is awaited by the others."""

    def __init__(self, size: int) -> None:
        self.size = size
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
        with self._lock:
            self._done[key] = value
            while len(self._done) > self.size:
                self._done.popitem(last=False)
        future.set_result(value)
        return value
