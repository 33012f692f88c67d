"""Where threads come from: the one module of the package that creates a thread or a pool.

Three kinds, each created here and nowhere else (``tests/test_architecture.py`` checks it):

- **shared pools**, one per name for the whole process, made on first use (``shared("quick", 2)``): the job runner's
  redraws, its long work, and the cluster panel's export tasks. They live as long as the process; closing a widget
  never has to shut one down, and building a thousand widgets never makes a thousand pools.
- **scoped pools**, for work that fans out and is waited for within one call (``with scoped(4, "aef-read") as
  pool``): the files of one read, the headers of a release read, the chunks of k-means or of a whole-AOI stream.
  They are over when the call returns, so nothing is left running.
- **daemon threads and timers** (``start_thread``, ``start_timer``): the Earth Engine sign-in with a time limit, the
  release check of the app, the loopback cache server, a child's first line, callbacks after a delay without a loop.

The policy (how many threads, which work shares a pool) is thus read and changed in one place; issue 19's plan
(docs/upper-floors-plan.md) grows it into per-family pools and a Dask client behind the same functions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

_shared: dict[str, ThreadPoolExecutor] = {}
_lock = threading.Lock()


def shared(name: str, workers: int) -> ThreadPoolExecutor:
    """The process-wide pool called ``name`` (threads named ``aef-widgets-<name>``), made with ``workers`` threads on
    first use; later calls get the same pool whatever ``workers`` they give."""
    with _lock:
        if name not in _shared:
            _shared[name] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"aef-widgets-{name}")
        return _shared[name]


def scoped(workers: int, name: str = "") -> ThreadPoolExecutor:
    """A pool for work waited for within one call: use it as ``with scoped(n, name) as pool:``, which joins its
    threads on the way out."""
    return ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix=name)


def start_thread(target: Callable[[], Any], name: str, *, daemon: bool = True) -> threading.Thread:
    """``target`` in a thread of its own, started; a daemon by default, so it never keeps the process alive."""
    thread = threading.Thread(target=target, name=name, daemon=daemon)
    thread.start()
    return thread


def start_timer(delay: float, callback: Callable[..., Any], *args: Any) -> threading.Timer:
    """``callback(*args)`` after ``delay`` seconds in a daemon thread, started (``cancel()`` stops a waiting one)."""
    timer = threading.Timer(delay, callback, args)
    timer.daemon = True
    timer.start()
    return timer
