"""One BLAS thread for the narrow products of similarity and k-means, and for models fitted on a few labels.

A product of pixels by one to a few columns is bound by memory, not arithmetic: split over OpenBLAS's threads it
gains little on an idle machine and waits for the slowest core on a busy one. Measured on the probe benchmark's
warm click with the other core busy: 46-61 ms with BLAS's two threads, 33-41 ms with one. Callers that want
several cores spread chunks over threads instead (``engines.workflows.map_chunks``).

Fitting on labels is the extreme case: logistic regression on 12 labels makes a few hundred tiny products, and
OpenBLAS's second thread spins waiting for each: 46 ms of CPU per fit with two threads, 6 ms with one (AMD family
25, 2 cores; ``auto``'s choice on 12 labels, 20 fits, went from 1.0 to 0.6 CPU s).

NumPy and SciPy wheels each bring their own OpenBLAS, and SciPy's loads only with SciPy (scikit-learn's first
import): the controller is looked up again once more modules are loaded, so the limit reaches both.
"""

from __future__ import annotations

import sys
import threading
from contextlib import AbstractContextManager

from threadpoolctl import ThreadpoolController

#: The controller and how many modules were loaded when it looked for BLAS libraries.
_controller: list = [ThreadpoolController(), len(sys.modules)]
_lock = threading.Lock()


def one_blas_thread() -> AbstractContextManager:
    """Within the block, BLAS (NumPy's and SciPy's matrix products) runs on one thread; restored after."""
    with _lock:
        if len(sys.modules) != _controller[1]:  # an import since may have loaded another BLAS (SciPy's): look again
            _controller[:] = [ThreadpoolController(), len(sys.modules)]
        controller = _controller[0]
    return controller.limit(limits=1, user_api="blas")
