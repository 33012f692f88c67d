""" "Like this, not like that" in the similarity probe: the score is the mean cosine to the positives minus the
mean cosine to the negatives, and map, readout and area agree with it on both engines."""

from __future__ import annotations

import numpy as np
import pytest

from aef_widgets.core.aoi import AOI
from aef_widgets.explorer import TAB_TITLES, Explorer
from aef_widgets.sources import EarthEngineSource
from aef_widgets.widgets import JobRunner, SimilarityProbe, make_map
from tests.earthengine_offline import Network, features, map_id, unit_vectors
from tests.widgets.frontend import click
from tests.widgets.test_similarity_probe import pixel_lonlat, reference_values


def test_a_negative_reference_makes_the_score_positives_minus_negatives(state, fresh_map, runner):
    state.aoi = AOI.from_bounds(*state.source.footprint.lonlat_bounds())
    probe = SimilarityProbe(state, map=fresh_map, runner=runner)
    values, _, _ = reference_values()
    positive, negative = pixel_lonlat(40, 25), pixel_lonlat(10, 80)
    click(fresh_map, *positive)
    probe.kind.value = "negative"
    click(fresh_map, *negative)
    assert probe.value == [positive] and state.negative_points == [negative]
    # the definition, by hand with numpy on an independent read
    score = values @ values[40, 25] - values @ values[10, 80]
    product = probe.product
    assert product.readout == pytest.approx(score[40, 25], abs=1e-5)
    assert f"<b>{score[40, 25]:.2f}</b>" in probe.readout.value and "minus" in probe.readout.value
    assert "Score" in probe.colorbar.value and product.vmin == -1.0
    # the area above a threshold counts the pixels whose score is at or above it
    area = product.above_area(state.engine.context, 0.2, None)
    assert area.percent == pytest.approx(100 * np.mean(score >= 0.2), abs=0.2)
    assert "Similarity" in [x.name for x in fresh_map.layers]
    probe.clear.click()
    assert probe.value == [] and state.negative_points == [] and probe.product is None


def test_a_negative_click_off_the_data_is_taken_back(state, fresh_map, runner):
    probe = SimilarityProbe(state, map=fresh_map, runner=runner)
    click(fresh_map, *pixel_lonlat(40, 25))
    probe.kind.value = "negative"
    west, south, _, _ = state.source.footprint.lonlat_bounds()
    click(fresh_map, west - 0.1, south - 0.1)
    assert state.negative_points == [] and "no embedding" in probe.notice.value
    assert probe.product.readout == pytest.approx(1.0, abs=1e-6)


def test_negative_examples_on_earth_engine_are_the_same_score(network: Network):
    network.answer("getMapId", map_id())
    lon, lat = -88.77, 44.295
    source = EarthEngineSource(years=[2023, 2024])
    explorer = Explorer(source, map=make_map(None, ee_initialize=False, center=(lat, lon), zoom=14),
                        runner=JobRunner.inline())  # fmt: skip
    explorer.tabs.selected_index = TAB_TITLES.index("Similarity")
    vectors = unit_vectors(2, seed=5)
    network.answer("computeValue", features(vectors[1:]), {"valid": 1e6, "above": 1e5})
    network.answer("getMapId", map_id(), map_id())
    click(explorer.map, lon, lat)
    explorer.similarity.kind.value = "negative"
    # one request samples both references, negatives first; the map and area follow
    network.answer("computeValue", features(vectors), {"valid": 1e6, "above": 2e5})
    network.answer("getMapId", map_id(), map_id())
    click(explorer.map, lon + 0.001, lat)
    pos, neg = vectors[1].astype(np.float64), vectors[0].astype(np.float64)
    pos, neg = pos / np.linalg.norm(pos), neg / np.linalg.norm(neg)
    product = explorer.similarity.product
    assert product.readout == pytest.approx(1.0 - float(neg @ pos), abs=1e-6)
    np.testing.assert_allclose(product.reference, pos - neg, rtol=1e-5, atol=1e-6)
    assert "20.0%" in explorer.similarity.matches.value
