"""K-means: same answers as scikit-learn, no class for nodata, samples independent of chunking."""

import numpy as np
import pytest
from sklearn.cluster import KMeans

from aef_widgets.analysis import MAX_KMEANS_SAMPLES, NO_CLASS, EmbeddingKMeans, PixelSampler, k_means, sample_valid
from aef_widgets.core.errors import NoDataError
from aef_widgets.sources import open_source


@pytest.fixture
def field(real_int8):
    return open_source(real_int8).read(None, 2024)


def test_labels_match_scikit_learn_on_the_same_samples(field, real_values):
    labels, model = k_means(field, n_clusters=5, n_samples=500, random_state=3)
    reference = KMeans(5, n_init="auto", random_state=3).fit(model.samples_)
    np.testing.assert_allclose(model.cluster_centers_, reference.cluster_centers_, atol=1e-6)
    # labels = nearest centroid, computed independently in float64
    d = ((real_values[:, :, None, :] - reference.cluster_centers_[None, None]) ** 2).sum(-1)
    np.testing.assert_array_equal(labels, d.argmin(axis=2))


def test_samples_are_valid_pixels_of_the_field(field, real_values):
    model = EmbeddingKMeans(n_clusters=4, n_samples=300).fit(field)
    assert model.samples_.shape == (300, 64)
    pixels = {tuple(v) for v in real_values.reshape(-1, 64).astype(np.float32)}
    assert all(tuple(v) in pixels for v in model.samples_)
    assert len({tuple(v) for v in model.samples_}) == 300  # without replacement


def test_nodata_pixels_get_no_class_and_are_never_sampled(int8_with_hole):
    path, hole = int8_with_hole
    field = open_source(path).read(None, 2024)
    labels, model = k_means(field, n_clusters=6, n_samples=9000)
    assert (labels[hole] == NO_CLASS).all() and (labels[~hole] >= 0).all()
    assert np.isfinite(model.samples_).all()
    assert len(model.samples_) == field.valid_count  # fewer valid pixels than asked: all of them


def test_sample_is_the_same_whole_or_chunked(real_int8):
    source = open_source(real_int8)
    whole = sample_valid(source.read(None, 2024), 200, seed=7)
    sampler = PixelSampler(200, seed=7)
    for window, chunk in source.stream(None, 2024, max_chunk_bytes=30 * 30 * 256):
        sampler.update(chunk, int(window.row_off), int(window.col_off))
    np.testing.assert_array_equal(sampler.vectors, whole)
    assert sampler.seen == 96 * 96


def test_sample_positions_are_uniform(field):
    # the mean row and column of a uniform sample of a 96 x 96 grid sit near 47.5
    rows, cols = np.nonzero(field.mask)
    from aef_widgets.analysis.sampling import pixel_keys

    keys = pixel_keys(rows, cols, seed=1)
    picked = np.argsort(keys)[:2000]
    assert abs(rows[picked].mean() - 47.5) < 2.5 and abs(cols[picked].mean() - 47.5) < 2.5
    assert abs(np.corrcoef(rows[picked], cols[picked])[0, 1]) < 0.1


def test_chunked_prediction_equals_one_shot(field):
    model = EmbeddingKMeans(n_clusters=5).fit(field)
    one_shot = model.kmeans_.predict(field.valid_vectors())
    model.chunk_pixels = 1000
    np.testing.assert_array_equal(model.predict(field)[field.mask], one_shot)


def test_too_few_pixels_and_bad_k_are_clear_errors(field):
    with pytest.raises(NoDataError, match="only 3 valid pixels"):
        EmbeddingKMeans(n_clusters=5).fit(field.valid_vectors()[:3])
    with pytest.raises(ValueError, match="between 2 and 255"):
        EmbeddingKMeans(n_clusters=1).fit(field)


@pytest.mark.parametrize("n_samples", [10**9, MAX_KMEANS_SAMPLES + 1, 0])
def test_the_sample_size_is_bounded_before_any_pixel_is_read(field, n_samples):
    with pytest.raises(ValueError, match=f"between 1 and {MAX_KMEANS_SAMPLES:,} pixels, got {n_samples:,}"):
        EmbeddingKMeans(n_clusters=3, n_samples=n_samples).fit(field)


def test_any_pixel_sample_is_bounded_in_memory():
    with pytest.raises(ValueError, match="too large"):
        PixelSampler(10**9)
    assert EmbeddingKMeans(n_clusters=3, n_samples=MAX_KMEANS_SAMPLES).n_samples == MAX_KMEANS_SAMPLES
