"""Colours for layers: continuous palettes from matplotlib, and distinct colours for classes."""

from __future__ import annotations

import numpy as np

#: Kelly's colours of maximum contrast (without black and white): distinct for up to 20 classes.
CATEGORICAL_HEX: tuple[str, ...] = (
    "#F3C300", "#875692", "#F38400", "#A1CAF1", "#BE0032", "#C2B280", "#848482", "#008856", "#E68FAC", "#0067A5",
    "#F99379", "#604E97", "#F6A600", "#B3446C", "#DCD300", "#882D17", "#8DB600", "#654522", "#E25822", "#2B3D26",
)  # fmt: skip


#: Highlight colours, chosen apart from every categorical colour and from the palettes under them: red over
#: viridis (similarity), cyan over magma (change), and a magenta outline for the AOI.
MATCH_COLOR = "#FF2D20"
CHANGED_COLOR = "#00E5FF"
AOI_COLOR = "#ff00ff"
PROBE_COLOR = "#e6007e"
#: Negative references ("not like that") of the similarity probe.
NEGATIVE_COLOR = "#1a1a1a"


def hex_to_rgba(color: str, alpha: int = 255) -> tuple[int, int, int, int]:
    color = color.lstrip("#")
    return (int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16), alpha)


def categorical_colors(n: int) -> list[str]:
    """``n`` distinct hex colours (cycled beyond 20, which the widgets never ask for)."""
    return [CATEGORICAL_HEX[i % len(CATEGORICAL_HEX)] for i in range(n)]


def continuous_palette(cmap: str, n: int = 255) -> np.ndarray:
    """(n, 4) uint8 RGBA samples of a matplotlib colormap, low to high."""
    from matplotlib import colormaps  # 20 MiB once loaded: the first view (an RGB composite) needs no palette

    rgba = colormaps[cmap](np.linspace(0, 1, n))
    return np.round(rgba * 255).astype(np.uint8)


def css_gradient(cmap: str, stops: int = 11) -> str:
    """A CSS linear-gradient of a colormap, for colour bars drawn without images or fonts."""
    colors = continuous_palette(cmap, stops)
    parts = [f"rgb({r},{g},{b}) {100 * i / (stops - 1):.0f}%" for i, (r, g, b, _) in enumerate(colors)]
    return "linear-gradient(to right, " + ", ".join(parts) + ")"
