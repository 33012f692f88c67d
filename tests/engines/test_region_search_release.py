"""find_similar over the public release on loopback: a region across two files in two UTM zones, more files than one
read may open, bottom-up files (the Source Cooperative layout; the miniature release of ``tests.release_data``)."""

from __future__ import annotations

import numpy as np
from pyproj import Transformer

from aef_widgets.core.quantization import dequantize
from aef_widgets.engines.region_search import find_similar
from tests.release_fixtures import _close_caches, coop_release, release_roots, release_tiles  # noqa: F401


def test_a_region_across_two_zones_and_over_the_file_limit(coop_release, release_tiles) -> None:  # noqa: F811
    west_tile, east_tile = release_tiles[0], release_tiles[1]  # 2024, zones 16N and 17N
    source = coop_release.open(max_files=1)  # one read may open one file; the region spans two
    # a clicked pixel of the eastern file (17N), as its own centre in lon/lat
    row, col = 200, 300
    x, y = east_tile.transform @ (col + 0.5, row + 0.5)
    click = Transformer.from_crs(east_tile.crs, "EPSG:4326", always_xy=True).transform(x, y)
    vector = dequantize(east_tile.codes[row, col])
    boxes = [Transformer.from_crs(t.crs, "EPSG:4326", always_xy=True).transform_bounds(
        t.transform.c, t.transform.f - 10 * t.codes.shape[0], t.transform.c + 10 * t.codes.shape[1], t.transform.f)
        for t in (west_tile, east_tile)]  # fmt: skip
    region = (boxes[0][0] + 0.01, 43.98, boxes[1][2] - 0.01, 44.02)  # across the zone boundary at 84 W
    found = find_similar(source, region, 2024, vector[None], top=50, exact=True)
    lon = np.array([p.x for p in found.geometry])
    assert (lon < -84).any() and (lon > -84).any()  # matches on both sides: the files repeat real vectors
    best = found.geometry.iloc[0]
    assert found["score"].iloc[0] > 0.999
    assert abs(best.x - click[0]) < 2e-4 or found["score"].iloc[0] == found["score"].iloc[1]  # the click, or a twin
    coarse = find_similar(source, region, 2024, vector[None], top=50)
    assert coarse["score"].iloc[0] == found["score"].iloc[0]
    assert len(coarse) == 50 and coarse.attrs["search"].levels[0].resolution_m == 80
