"""Fixtures of the source tests: the miniature public release on loopback."""

from tests.release_fixtures import (  # noqa: F401
    _close_caches,
    coop_release,
    gcs_release,
    real_files,
    real_release,
    real_roots,
    release_roots,
    release_tiles,
)
