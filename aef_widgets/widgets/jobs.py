"""Background work that never freezes the interface and never lets a late result overwrite a newer one.

Every request belongs to a channel (one per layer or panel). Submitting to a channel supersedes whatever was
submitted there before: a superseded request that has not started is skipped, one that is running stops at its
next progress report (``Cancelled``), and one that finishes late is dropped. A short delay before starting lets
bursts (a slider being dragged, a map being panned) collapse into one computation.

Results and errors are handed back to the kernel's event loop (``UILoop``), and every ``apply`` and ``fail`` runs
there: widgets and the map are only ever changed on that one thread, as ipywidgets and Jupyter expect.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from ..core.execution import shared
from ..core.memory import release_freed_memory
from .ui_loop import UILoop

log = logging.getLogger(__name__)
#: Seconds without a job before freed memory goes back to the system. Not at once: giving pages back and faulting
#: them in again made every click 18 ms slower (46 ms against 28, measured on the probe benchmark's clicks), while
#: a kernel left alone this long is waiting for a person, who will not notice the next job's few ms.
IDLE_TRIM_S = 10.0


def shared_executor() -> Executor:
    """One small thread pool for every widget in the process: reads and numpy release the GIL."""
    return shared("quick", 2)


def shared_heavy_executor() -> Executor:
    """One thread for long work (k-means, areas of a whole AOI, exports), so map redraws never wait behind it."""
    return shared("heavy", 1)


class Cancelled(Exception):
    """Raised inside work whose request was superseded or cancelled: it stops at the next progress report."""


class InlineExecutor(Executor):
    """Runs work immediately in the caller's thread: deterministic, for scripts and tests."""

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as e:  # handed to the future, as a pool would
            future.set_exception(e)
        return future


class Job:
    """One request on a channel, as its work sees it: is it still wanted, and how far along is it."""

    def __init__(self, runner: JobRunner, channel: str, token: int, on_progress: Callable | None) -> None:
        self.runner, self.channel, self.token, self.on_progress = runner, channel, token, on_progress

    @property
    def current(self) -> bool:
        """False once a newer request on the channel, or a cancel, has superseded this one."""
        return self.runner.is_latest(self.channel, self.token)

    def check(self) -> None:
        """Raise ``Cancelled`` if this request is no longer wanted."""
        if not self.current:
            raise Cancelled(self.channel)

    def show_early(self, show: Callable[[], None]) -> None:
        """Run ``show`` on the UI loop if this request is still the latest then: a partial result (a coarse first
        picture) shown before the work ends. It reaches the loop before the work's own result, which replaces it."""
        self.runner.loop.call(lambda: self.current and show())

    def progress(self, fraction: float, message: str) -> None:
        """Report progress (shown on the kernel loop); stops the work here if it was superseded."""
        self.check()
        if self.on_progress is not None:
            on_progress = self.on_progress
            self.runner.loop.call(lambda: self.current and on_progress(fraction, message))


class JobRunner:
    """Runs the latest request of each channel; applies its result on the UI loop only if it is still the latest."""

    def __init__(
        self,
        executor: Executor | None = None,
        delay: float = 0.0,
        loop: UILoop | None = None,
        heavy_executor: Executor | None = None,
    ) -> None:
        self.executor = executor if executor is not None else shared_executor()
        #: Where long work runs: its own thread by default, the given executor's when one is given.
        self.heavy_executor = heavy_executor or (shared_heavy_executor() if executor is None else self.executor)
        self.delay = delay
        inline = isinstance(self.executor, InlineExecutor)
        #: Where results are applied: the kernel's loop; inline runs apply at once, in the caller's thread.
        self.loop = loop if loop is not None else (UILoop.immediate() if inline else UILoop.current())
        #: Delays only make sense when work runs apart from the caller; inline runs never wait.
        self.waits = not inline
        self._latest: dict[str, int] = {}
        self._lock = threading.Lock()
        self._running: dict[str, str] = {}
        self._activity = 0  # jobs started so far: a trim is due only if none started since it was planned
        self._trim_planned = False
        self._words = ""
        #: Called on the UI loop with what is running, in words (empty when idle).
        self.on_busy: Callable[[str], None] | None = None
        self._waiting: weakref.WeakSet = weakref.WeakSet()  # callbacks waiting on the loop (``UILoop.Later``)
        self.closed = False

    def submit(
        self,
        channel: str,
        work: Callable[[Job], Any],
        apply: Callable[[Any], None],
        fail: Callable[[BaseException], None],
        delay: float | None = None,
        *,
        label: str = "",
        progress: Callable[[float, str], None] | None = None,
        heavy: bool = False,
    ) -> Future | None:
        """Run ``work`` in the background, then ``apply(result)`` or ``fail(error)`` on the UI loop, unless superseded.

        ``work`` is given the ``Job``: long work calls its ``progress`` as it goes, which stops it once superseded.
        ``label`` says what is running, in words, for the busy indicator; ``heavy`` work runs apart from the
        quick redraws. A ``delay`` waits on the UI loop (no thread is held), then starts the work if still wanted.
        """
        if self.closed:
            return None
        with self._lock:
            token = self._latest.get(channel, 0) + 1
            self._latest[channel] = token
        job = Job(self, channel, token, progress)
        wait = self.delay if delay is None else delay

        executor = self.heavy_executor if heavy else self.executor

        def run() -> None:
            if not job.current:
                return
            self._set_busy(channel, label)
            try:
                result = work(job)
            except Cancelled:
                return
            except Exception as e:
                self.loop.call(lambda error=e: job.current and fail(error))
                return
            finally:
                self._set_busy(channel, None)
            self.loop.call(lambda: self._apply(job, apply, fail, result))

        if wait and self.waits:
            self._call_later(wait, lambda: job.current and executor.submit(run))
            return None
        return executor.submit(run)

    def close(self) -> None:
        """Cancel every channel and what waits on the loop (delayed starts, the idle trim); refuse new work. Work
        running in a pool stops at its next progress report, and its result is dropped. The pools are the
        process's (``core.execution``): they stay."""
        with self._lock:
            self.closed = True
            for channel in self._latest:
                self._latest[channel] += 1
        for later in list(self._waiting):
            later.cancel()
        self.on_busy = None

    def _call_later(self, delay: float, callback: Callable[[], object]) -> None:
        later = self.loop.call_later(delay, callback)
        if later is not None:  # a loop replaced by a test's may hand back nothing to cancel
            self._waiting.add(later)

    def _apply(self, job: Job, apply: Callable, fail: Callable, result: Any) -> None:
        if not job.current:
            return
        try:
            apply(result)
        except Exception as e:  # a result that cannot be shown is an error of its own, in words
            fail(e)

    @classmethod
    def inline(cls) -> JobRunner:
        """A runner that does everything immediately, in order: for scripts, tests and benchmarks."""
        return cls(InlineExecutor())

    def cancel(self, channel: str) -> None:
        """Drop whatever is pending on a channel; running work stops at its next progress report."""
        with self._lock:
            self._latest[channel] = self._latest.get(channel, 0) + 1

    def is_latest(self, channel: str, token: int) -> bool:
        with self._lock:
            return self._latest.get(channel) == token

    def _trim_if_still_idle(self, activity: int) -> None:
        # one trim is planned at a time; jobs since it was planned put it off, and a running one drops it (its end
        # plans the next)
        with self._lock:
            quiet = not self._running and self._activity == activity
            again = not self._running and not quiet and not self.closed
            self._trim_planned = again
            now = self._activity
        if quiet:
            release_freed_memory()
        elif again:
            self._call_later(IDLE_TRIM_S, lambda: self._trim_if_still_idle(now))

    def _set_busy(self, channel: str, label: str | None) -> None:
        with self._lock:
            if label is None:
                self._running.pop(channel, None)
            else:
                self._running[channel] = label
            words = ", ".join(sorted({x for x in self._running.values() if x}))
            changed, self._words = words != self._words, words
            if label is not None:
                self._activity += 1
            plan = label is None and not self._running and not self._trim_planned and not self.closed
            self._trim_planned |= plan
            activity = self._activity
        if plan:  # the kernel may now wait for the user: once it has, hand back what the jobs freed
            self._call_later(IDLE_TRIM_S, lambda: self._trim_if_still_idle(activity))
        if self.on_busy is not None and changed:
            on_busy = self.on_busy
            self.loop.call(lambda: on_busy(words))
