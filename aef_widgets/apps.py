"""The apps behind the bundled notebooks: what a Voila page shows, with errors in words and safe defaults.

``AEF_WIDGETS_SOURCE`` chooses the data of the explorer app: unset or ``sample`` for the bundled synthetic sample,
``earthengine`` for the real dataset on Earth Engine (when credentials are configured), ``release`` for the public
COG release (no account; ``release:gcs`` or ``release:source-coop`` picks a mirror, ``AEF_WIDGETS_RELEASE_URL`` and
``AEF_WIDGETS_RELEASE_INDEX`` point elsewhere), or a GeoTIFF path, folder, glob pattern or URL. Whatever goes wrong,
the app opens on the sample and says why in a banner.
"""

from __future__ import annotations

import html
import logging
import os

from ipywidgets import HTML, VBox

from .core.errors import AEFError
from .explorer import Explorer
from .sources.base import EmbeddingSource
from .sources.release import ReleaseSource
from .sources.sample import sample_source
from .widgets.real_places import RealPlaces

log = logging.getLogger(__name__)
SOURCE_ENV = "AEF_WIDGETS_SOURCE"
#: Where the app opens ("lon, lat" or "west, south, east, north"); the release, which covers the world, opens on a
#: farming and forest landscape in Wisconsin (where the real raster of the tests comes from) unless told otherwise.
START_ENV = "AEF_WIDGETS_START"
RELEASE_START = "-88.79, 44.30"


def app_source(choice: str | None = None) -> tuple[EmbeddingSource, str]:
    """The source the app should show, and a message when it had to fall back to the sample."""
    choice = (choice if choice is not None else os.environ.get(SOURCE_ENV, "")).strip()
    if choice in ("", "sample"):
        return sample_source(), ""
    try:
        if choice == "earthengine":
            from .ee_auth import ee_init
            from .sources.earthengine import EarthEngineSource

            ee_init(strict=True)  # raises EarthEngineError saying why, never prompts
            return EarthEngineSource(), ""
        from .sources.open import open_source

        return open_source(choice), ""
    except AEFError as e:
        return sample_source(), f"Showing the bundled sample instead: {e}"
    except Exception:  # the app must open whatever the configured source does
        log.exception("could not open the configured source")
        return sample_source(), "Showing the bundled sample instead: the configured data could not be opened."


def explorer_app(choice: str | None = None, height: str = "calc(100vh - 60px)") -> VBox:
    """The explorer as a page: a banner when something had to change, then the Explorer."""
    source, message = app_source(choice)
    banner = HTML(
        f'<div class="aef-banner" style="background:#fdecea;padding:4px 8px">{html.escape(message)}</div>'
        if message
        else ""
    )
    start = os.environ.get(START_ENV) or (RELEASE_START if isinstance(source, ReleaseSource) else None)
    if source.synthetic:  # room for the row of real places above the map
        height = height.replace("- 60px", "- 120px")
    explorer = Explorer(source, height=height, start=start)
    if not source.synthetic:
        return VBox([banner, explorer])
    # on the sample, a newcomer is offered real places in one click when the kernel can reach the release
    places = RealPlaces(explorer.state, go_to=explorer.place.go_to, map=explorer.map, runner=explorer.runner)
    return VBox([banner, places, explorer])
