"""Explorer and widgets on the public release (a miniature of it on loopback), driven as on the sample."""

from __future__ import annotations

import numpy as np
import rasterio

from aef_widgets.core.bands import DEFAULT_STRETCH
from aef_widgets.explorer import TAB_TITLES, Explorer
from aef_widgets.widgets import JobRunner
from tests.widgets.frontend import click, draw, rectangle, rgba, send_state


def test_explorer_on_the_release_draws_true_colours_of_its_tiles(gcs_release, release_tiles):
    source = gcs_release.open()
    explorer = Explorer(source, runner=JobRunner.inline())
    image = rgba(next(x for x in explorer.map.layers if x.name == "RGB composite").url)
    opaque = image[image[..., 3] == 255][:, :3]
    assert len(opaque) > 1000
    # every colour shown is the default stretch of some pixel of a 2024 tile, at full resolution or in one of its
    # overviews (nearest resampling, no blending)
    codes = []
    for t in release_tiles:
        if t.year == 2024:
            path = gcs_release.file(t.relpath)
            with rasterio.open(path) as ds:
                levels = range(-1, len(ds.overviews(1)))
            for level in levels:
                with rasterio.open(path, **({} if level < 0 else {"overview_level": level})) as ds:
                    codes.append(ds.read([2, 17, 10]).reshape(3, -1).T)
    q = np.concatenate(codes).astype(np.float64)
    values = (np.sign(q) * (q / 127.5) ** 2).astype(np.float32)  # the float32 vectors the map stretches
    vmin, vmax = DEFAULT_STRETCH
    stretched = np.clip((values - np.float32(vmin)) / np.float32(vmax - vmin), 0, 1)
    expected = {tuple(p) for p in np.round(stretched * 255).astype(np.uint8)}
    assert {tuple(p) for p in opaque} <= expected


def test_similarity_and_clusters_work_across_the_zone_boundary(gcs_release):
    source = gcs_release.open()
    explorer = Explorer(source, runner=JobRunner.inline())
    explorer.tabs.selected_index = TAB_TITLES.index("Similarity")
    click(explorer.map, -83.96, 44.0)  # east of the 16N tile: only the 17N tile has it
    assert explorer.state.probe_points == [(-83.96, 44.0)]
    assert any(x.name == "Similarity" for x in explorer.map.layers)
    draw(explorer.aoi.draw_control, rectangle(-84.02, 43.99, -83.96, 44.01))
    explorer.clusters.run.click()
    assert any(x.name == "Clusters" for x in explorer.map.layers)


def test_a_view_over_too_many_files_says_zoom_in_and_zooming_in_draws_it(gcs_release):
    explorer = Explorer(gcs_release.open(max_files=1), runner=JobRunner.inline())
    assert "zoom in" in explorer.bands.status.value  # the whole coverage spans both zones' tiles
    assert "RGB composite" not in [x.name for x in explorer.map.layers]
    send_state(explorer.map, {"center": [43.995, -84.03], "zoom": 16})  # the user zooms in on the 16N tile
    assert "RGB composite" in [x.name for x in explorer.map.layers]
