"""Images as PNG data URLs: what an ImageOverlay can show anywhere, with no tile server."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

#: zlib level 1: most of the size reduction for a fraction of the time; overlays are redrawn often.
_COMPRESS_LEVEL = 1


def rgba_data_url(rgba: np.ndarray) -> str:
    """Data URL of an (h, w, 4) uint8 RGBA image."""
    return _data_url(Image.fromarray(np.ascontiguousarray(rgba), "RGBA"))


def indexed_data_url(index: np.ndarray, palette: np.ndarray, compress_level: int = _COMPRESS_LEVEL) -> str:
    """Data URL of an (h, w) uint8 image of palette indices; ``palette`` is (n <= 256, 4) RGBA."""
    image = Image.fromarray(np.ascontiguousarray(index, dtype=np.uint8), "P")
    image.putpalette(palette[:, :3].astype(np.uint8).tobytes(), rawmode="RGB")
    image.info["transparency"] = palette[:, 3].astype(np.uint8).tobytes()
    return _data_url(image, compress_level)


def _data_url(image: Image.Image, compress_level: int = _COMPRESS_LEVEL) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=compress_level)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
