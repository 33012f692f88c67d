"""The cache server's child process: ``python -I .../release_cache_server/__main__.py FOLDER MAX_BYTES TIMEOUT UA``.

Run by path in an isolated interpreter (``-I``: nothing of the user's environment may change it, and the script's
folder is not on ``sys.path``), so this package is loaded by its own path under a name of its own: importing it as
``aef_widgets.sources.release_cache_server`` would first run ``aef_widgets``'s ``__init__`` (NumPy, GDAL, widgets),
which the server neither needs nor may wait for. ``python -m aef_widgets.sources.release_cache_server`` works too.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def _package() -> ModuleType:
    """This folder as a package named ``aef_release_cache_server``, its modules found by their relative imports."""
    here = Path(__file__).resolve().parent
    spec = importlib.util.spec_from_file_location(
        "aef_release_cache_server", here / "__init__.py", submodule_search_locations=[str(here)]
    )
    package = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = package
    spec.loader.exec_module(package)
    return package


if __name__ == "__main__":
    _package().main(sys.argv[1:])
