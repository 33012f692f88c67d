"""The tests' Dask cluster: two worker processes of one thread each on this machine, and a client of it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def dask_client() -> Iterator:
    """A ``distributed.Client`` of a fresh local cluster (worker processes, as a real cluster's, so work and data
    really cross process boundaries); both closed on exit. Skips where Dask is not installed."""
    distributed = pytest.importorskip("distributed", reason="Dask is part of the test extra; install .[test]")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit="2GiB"
    )
    with cluster, distributed.Client(cluster) as client:
        yield client
