"""RealPlaces: a few named places on the public release, one click each, offered only when the kernel can reach it.

A newcomer on the bundled sample sees synthetic data unless they know the release exists. When the release's
index answers a quick HEAD request (checked off the UI thread, with a short timeout), the places are offered; a
click opens the release (in the background) and goes there. Offline, the app stays on the sample and says why.
"""

from __future__ import annotations

import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable

from ipywidgets import HTML, Button, HBox, Layout

from ..core.execution import start_thread
from ..core.place import Place, parse_place
from ..sources.base import EmbeddingSource
from ..sources.release_http import DEFAULT_MIRROR, MIRRORS, USER_AGENT, annual_root
from .base import Panel
from .ui_loop import UILoop

#: Named places where the release has data: (button, "lon, lat", what a visitor sees there).
PLACES = (
    ("Farmland, Iowa", "-93.55, 42.05", "corn and soybean fields around Ames"),
    ("Forest clearing, Rondônia", "-62.95, -9.95", "fishbone clearings in the Amazon near Ariquemes"),
    ("Growing city, Arizona", "-112.60, 33.45", "new suburbs west of Phoenix (Buckeye)"),
    ("Reservoir, Lake Mead", "-114.45, 36.25", "the shrinking shoreline of Lake Mead"),
)
#: How long the reachability check waits for the mirror: a visitor should not wait to be told they are offline.
CHECK_SECONDS = 4.0


def release_index_url() -> str:
    """The index the release would be opened from (``open_release``'s defaults and environment variables)."""
    from ..sources.release import INDEX_ENV, INDEX_NAME, URL_ENV

    base = os.environ.get(URL_ENV) or MIRRORS[DEFAULT_MIRROR].root
    return os.environ.get(INDEX_ENV) or f"{annual_root(base)}/{INDEX_NAME}"


def reachable(url: str, timeout: float = CHECK_SECONDS) -> str:
    """ "" when ``url`` answers a HEAD request within ``timeout`` seconds, else why not, in a few words."""
    if not url.startswith(("http://", "https://")):
        return ""  # a local index: nothing to reach
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return ""
    except urllib.error.HTTPError as e:
        return f"the release mirror answered {e.code}"
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        if "timed out" in str(reason):
            return "the release mirror did not answer in time"
        return f"the public release could not be reached ({getattr(reason, 'strerror', None) or reason})"


class RealPlaces(Panel):
    """Buttons for ``PLACES``, enabled once the release answers; ``value`` is the name of the place shown, or "".

    ``go_to(place)`` moves the map (the explorer's place finder). ``opener`` opens the release (default
    ``open_source("release")``), ``index_url`` is what is checked (default: where the release would be read).
    """

    def __init__(
        self,
        state=None,
        *,
        go_to: Callable[[Place], None],
        opener: Callable[[], EmbeddingSource] | None = None,
        index_url: str | None = None,
        places: tuple[tuple[str, str, str], ...] = PLACES,
        **kwargs,
    ) -> None:
        super().__init__(state, **kwargs)
        self._go_to, self._opener = go_to, opener or _open_release
        self.index_url = index_url or release_index_url()
        self.release: EmbeddingSource | None = None
        self.value = ""
        self.buttons = []
        for name, lonlat, what in places:
            button = Button(
                description=name, tooltip=f"{what} ({lonlat}), on the public release", disabled=True,
                layout=Layout(width="auto"),
            )  # fmt: skip
            button.on_click(lambda _, n=name, p=lonlat: self.open_place(n, p))
            self.buttons.append(button)
        self.intro = HTML("<b>Real places</b> (public AEF release):")
        self.children = [HBox([self.intro, *self.buttons], layout=Layout(flex_flow="row wrap")), self.status]
        self.add_class("aef-real-places")
        self.checked = threading.Event()
        self.show_status("Checking whether the public release can be reached…", "busy")
        loop = UILoop.current()
        url = self.index_url
        # off the UI thread: a slow network must never freeze the app
        start_thread(lambda: loop.call(lambda: self._checked(reachable(url))), "aef-release-check")

    def _checked(self, why_not: str) -> None:
        if why_not:
            self.show_status(f"Offline: {why_not}, so the app shows the synthetic sample.", "info")
            self.status.add_class("aef-offline")
        else:
            for button in self.buttons:
                button.disabled = False
            self.show_status("")
        self.checked.set()

    def open_place(self, name: str, lonlat: str) -> None:
        """Show a named place: the release is opened first (once), then the map goes there."""
        place = parse_place(lonlat)

        def done(release: EmbeddingSource) -> None:
            self.release = release
            if self.state.source is not release:
                self.state.source = release
            self._go_to(place)
            self.value = name
            self.show_status(f"{name}: real embeddings from the public release.", "ok")

        if self.release is not None:
            done(self.release)
            return
        self.show_status("Opening the public release…", "busy")
        opener = self._opener
        self.runner.submit("release", lambda job: opener(), done, self.show_error, label="opening the release")


def _open_release() -> EmbeddingSource:
    from ..sources.open import open_source

    return open_source("release")
