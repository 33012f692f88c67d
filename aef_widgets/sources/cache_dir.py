"""The per-user cache folder of the package: the generated sample and the release's fetched tiles live under it."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

CACHE_ENV = "AEF_WIDGETS_CACHE"


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """The cache folder: ``cache_dir``, else ``$AEF_WIDGETS_CACHE``, else the user cache folder."""
    if cache_dir is None:
        cache_dir = os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir("aef-widgets")
    return Path(cache_dir).expanduser()
