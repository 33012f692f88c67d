"""Fixtures of the source tests: the miniature public release on loopback."""

from tests.release_fixtures import _close_caches, coop_release, gcs_release, release_roots, release_tiles  # noqa: F401
