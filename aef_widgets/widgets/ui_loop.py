"""The one thread that changes widgets and the map: the kernel's event loop.

Background work must never touch a widget: traitlets and the comm layer are not thread-safe (concurrent writes to
``map.layers`` lose layers). Work hands its result to ``UILoop.call``, which runs it on the loop thread, in the
order results arrived, with the loop's thread-safe ``call_soon_threadsafe``.

In a kernel (JupyterLab, Voila, VS Code, Colab) that is the kernel's asyncio loop. Outside a kernel and without a
running loop (a plain script), there is no UI thread to return to: callbacks then run where they arrive, one at a
time under a process-wide lock, which keeps every change to widgets serial.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

from ..core.execution import start_timer

log = logging.getLogger(__name__)
_serial = threading.RLock()


class UILoop:
    """Runs callbacks on the UI thread, from any thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None, thread: threading.Thread | None = None) -> None:
        self.loop = loop
        #: The thread the loop runs on; a callback from it runs at once, keeping the caller's order.
        self.thread = thread

    @classmethod
    def current(cls) -> UILoop:
        """The kernel's loop when there is one, else serial callbacks in whatever thread they arrive."""
        try:
            return cls(asyncio.get_running_loop(), threading.current_thread())
        except RuntimeError:
            pass
        kernel_loop = _kernel_loop()
        if kernel_loop is not None:
            return cls(kernel_loop, threading.main_thread())
        return cls(None)

    @classmethod
    def immediate(cls) -> UILoop:
        """Callbacks run at once, in the caller's thread: for inline (scripted, tested) runs."""
        return cls(None)

    def call(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` on the UI thread: now if this is it, else as soon as the loop gets to it."""
        if self.loop is None or threading.current_thread() is self.thread:
            self._run(callback)
        elif self.loop.is_closed():
            log.debug("UI loop closed; dropping a callback")
        else:
            self.loop.call_soon_threadsafe(self._run, callback)

    def call_later(self, delay: float, callback: Callable[[], object]) -> Later:
        """Run ``callback`` on the UI thread after ``delay`` seconds, without holding any thread meanwhile (without a
        loop, a timer's thread waits); ``cancel()`` on what it returns drops the callback."""
        later = Later(callback, time.monotonic() + delay)
        if self.loop is None:
            later.timer = start_timer(delay, later.fire)
        elif not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.loop.call_later, delay, later.fire)
        return later

    @staticmethod
    def _run(callback: Callable[[], object]) -> None:
        with _serial:
            try:
                callback()
            except Exception:  # a failing callback must not stop the loop; callers report errors themselves
                log.exception("error in a UI callback")


class Later:
    """A callback waiting for its time. ``cancel`` drops it, so nothing it reaches is kept alive by the wait (the
    loop keeps only this), and ends a timer's thread at once."""

    def __init__(self, callback: Callable[[], object], due: float = 0.0) -> None:
        self.callback: Callable[[], object] | None = callback
        self.timer: threading.Timer | None = None
        #: When it is to run (``time.monotonic()``).
        self.due = due

    @property
    def pending(self) -> bool:
        """Neither run nor cancelled yet."""
        return self.callback is not None

    def cancel(self) -> None:
        self.callback = None
        if self.timer is not None:
            self.timer.cancel()

    def fire(self) -> None:
        callback, self.callback = self.callback, None
        if callback is not None:
            UILoop._run(callback)


def _kernel_loop() -> asyncio.AbstractEventLoop | None:
    """The asyncio loop of the IPython kernel this process runs, if any."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    io_loop = getattr(getattr(shell, "kernel", None), "io_loop", None)
    return getattr(io_loop, "asyncio_loop", None)
