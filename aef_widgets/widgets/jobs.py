"""Background work that never freezes the interface and never lets a late result overwrite a newer one.

Every request belongs to a channel (one per layer or panel). Submitting to a channel supersedes whatever was
submitted there before: a superseded request that has not started is skipped, and one that finishes late is
dropped. A short delay before starting lets bursts (a slider being dragged, a map being panned) collapse into one
computation.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)
_shared_pool: ThreadPoolExecutor | None = None


def shared_executor() -> Executor:
    """One small thread pool for every widget in the process: reads and numpy release the GIL."""
    global _shared_pool
    if _shared_pool is None:
        _shared_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="aef-widgets")
    return _shared_pool


class InlineExecutor(Executor):
    """Runs work immediately in the caller's thread: deterministic, for scripts and tests."""

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as e:  # handed to the future, as a pool would
            future.set_exception(e)
        return future


class JobRunner:
    """Runs the latest request of each channel; applies its result only if it is still the latest."""

    def __init__(self, executor: Executor | None = None, delay: float = 0.0) -> None:
        self.executor = executor if executor is not None else shared_executor()
        self.delay = delay
        #: Delays only make sense when work runs apart from the caller; inline runs never wait.
        self.waits = not isinstance(self.executor, InlineExecutor)
        self._latest: dict[str, int] = {}
        self._lock = threading.Lock()
        self._running = 0
        self.on_busy: Callable[[bool], None] | None = None

    def submit(
        self,
        channel: str,
        work: Callable[[], Any],
        apply: Callable[[Any], None],
        fail: Callable[[BaseException], None],
        delay: float | None = None,
    ) -> Future:
        """Run ``work`` in the background, then ``apply(result)`` or ``fail(error)`` unless superseded."""
        with self._lock:
            token = self._latest.get(channel, 0) + 1
            self._latest[channel] = token
        wait = self.delay if delay is None else delay

        def run() -> None:
            if wait and self.waits:
                time.sleep(wait)
            if not self.is_latest(channel, token):
                return
            self._set_busy(+1)
            try:
                result = work()
            except Exception as e:
                if self.is_latest(channel, token):
                    fail(e)
                return
            finally:
                self._set_busy(-1)
            if self.is_latest(channel, token):
                try:
                    apply(result)
                except Exception as e:
                    fail(e)

        return self.executor.submit(run)

    @classmethod
    def inline(cls) -> JobRunner:
        """A runner that does everything immediately, in order: for scripts, tests and benchmarks."""
        return cls(InlineExecutor())

    def cancel(self, channel: str) -> None:
        """Drop whatever is pending or running on a channel."""
        with self._lock:
            self._latest[channel] = self._latest.get(channel, 0) + 1

    def is_latest(self, channel: str, token: int) -> bool:
        with self._lock:
            return self._latest.get(channel) == token

    def _set_busy(self, delta: int) -> None:
        with self._lock:
            self._running += delta
            busy = self._running > 0
        if self.on_busy is not None:
            self.on_busy(busy)
