"""On the bundled sample, the change map shown on the map finds the planted changes."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.enums import Resampling
from rasterio.warp import reproject

from aef_widgets import sample_source, sample_truth
from aef_widgets.widgets import ChangePanel, ExplorerState, JobRunner, make_map
from tests.widgets.frontend import rgba


@pytest.mark.parametrize("years", [(2022, 2023), (2023, 2024)])
def test_changed_pixels_on_the_map_overlap_the_truth(years):
    source, truth = sample_source(), sample_truth()
    state = ExplorerState(source, change_years=years, change_threshold=0.25)
    m = make_map(source)
    ChangePanel(state, map=m, runner=JobRunner.inline())
    layer = next(x for x in m.layers if x.name == "Changed pixels")
    shown = rgba(layer.url)[..., 3] == 255
    # the truth mask, warped by GDAL onto the overlay's own grid
    (south, west), (north, east) = layer.bounds
    to_3857 = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    (left, right), (bottom, top) = to_3857.transform([west, east], [south, north])
    height, width = shown.shape
    expected = np.zeros(shown.shape, dtype=np.uint8)
    reproject(
        truth.change(*years).astype(np.uint8), expected, src_transform=truth.grid.transform,
        src_crs=truth.grid.crs, dst_transform=rasterio.transform.from_bounds(left, bottom, right, top, width, height),
        dst_crs="EPSG:3857", resampling=Resampling.nearest,
    )  # fmt: skip
    expected = expected.astype(bool)
    iou = np.count_nonzero(shown & expected) / np.count_nonzero(shown | expected)
    assert iou > 0.8, f"IoU {iou:.2f}"  # measured 0.87 and 0.95
