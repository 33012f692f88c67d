"""One BLAS thread for the narrow products of similarity and k-means.

A product of pixels by one to a few columns is bound by memory, not arithmetic: split over OpenBLAS's threads it
gains little on an idle machine and waits for the slowest core on a busy one. Measured on the probe benchmark's
warm click with the other core busy: 46-61 ms with BLAS's two threads, 33-41 ms with one. Callers that want
several cores spread chunks over threads instead (``engines.workflows.map_chunks``).
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from threadpoolctl import ThreadpoolController

_CONTROLLER = ThreadpoolController()


def one_blas_thread() -> AbstractContextManager:
    """Within the block, BLAS (numpy's matrix products) runs on one thread; the setting is restored after."""
    return _CONTROLLER.limit(limits=1, user_api="blas")
