"""The bundled synthetic sample: encoding, determinism, realism against real embeddings, ground truth and cache.

Files are read with plain rasterio and dequantised here, independently of the package's readers.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from pathlib import Path

import numpy as np
import pytest
import rasterio
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from aef_widgets.core.errors import SourceError, YearError
from aef_widgets.data import synthetic
from aef_widgets.sources.sample import (
    CACHE_ENV,
    SAMPLE_VERSION,
    sample_dir,
    sample_source,
    sample_truth,
)
from tests.conftest import REAL_FLOAT32, sample_generator_digest, sample_stamp

YEARS = tuple(range(2018, 2026))
SHIPPED_JSON = Path(synthetic.__file__).parent / "sample_classes.json"


_CODES = np.arange(-128, 128)
_VALUES = (np.sign(_CODES) * (_CODES / 127.5) ** 2).astype(np.float32)


def dequantize(q: np.ndarray) -> np.ndarray:
    """(bands, rows, cols) int8 -> (rows, cols, bands) float32, NaN where all bands are -128."""
    v = np.moveaxis(_VALUES[q.astype(np.int16) + 128], 0, -1)
    v[(q == -128).all(axis=0)] = np.nan
    return v


def dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("...k,...k->...", a, b)


def read_codes(path: Path, overview_level: int | None = None) -> np.ndarray:
    with rasterio.open(path, overview_level=overview_level) as ds:
        return ds.read()


def read_labels(folder: Path, year: int) -> np.ndarray:
    with rasterio.open(folder / f"labels_{year}.tif") as ds:
        return ds.read(1)


@pytest.fixture(scope="session")
def cache(tmp_path_factory, sample) -> Path:
    """A cache folder holding the sample as this checkout generates it.

    That is the run's shared sample (``sample`` in tests/conftest.py), linked in, when its stamp says the same
    generator files wrote it; otherwise a copy is generated here (most of a minute of CPU) and, when the shared one
    is byte for byte the same, the stamp is written so later runs link it.
    """
    root = tmp_path_factory.mktemp("cache")
    stamp, digest = sample_stamp(), sample_generator_digest()
    if stamp.exists() and stamp.read_text() == digest:
        (root / sample.name).symlink_to(sample, target_is_directory=True)
        return root
    own = sample_dir(root)
    names = sorted(p.name for p in own.iterdir())
    if names == sorted(p.name for p in sample.iterdir()) and all(
        (own / n).read_bytes() == (sample / n).read_bytes() for n in names
    ):
        stamp.write_text(digest)
    return root


@pytest.fixture(scope="session")
def folder(cache) -> Path:
    return sample_dir(cache)


class Years(dict):
    """Dequantised vectors of a year, read on first use and kept (a year is 256 MiB as float32)."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    def __missing__(self, year: int) -> np.ndarray:
        self[year] = dequantize(read_codes(self.folder / f"aef_sample_{year}.tif"))
        return self[year]


@pytest.fixture(scope="session")
def vectors(folder) -> Years:
    return Years(folder)


# --- encoding ---------------------------------------------------------------------------------------------------
def test_files_follow_the_public_cog_encoding(folder):
    assert folder.name == f"sample-v{SAMPLE_VERSION}"
    for year in YEARS:
        with rasterio.open(folder / f"aef_sample_{year}.tif") as ds:
            assert (ds.count, ds.width, ds.height) == (64, 1024, 1024)
            assert ds.dtypes == ("int8",) * 64 and ds.nodata == -128
            assert ds.descriptions == tuple(f"A{i:02d}" for i in range(64))
            assert ds.crs.to_epsg() == 32616
            assert tuple(ds.transform)[:6] == (10, 0, 352000, 0, -10, 4912000)
            assert ds.tags()["YEAR"] == str(year) and ds.tags()["SYNTHETIC"].startswith("YES")
            assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
            assert ds.compression.name == "zstd" and ds.block_shapes[0] == (256, 256)  # as the release's files
            assert ds.overviews(1) == [2, 4, 8, 16]
            codes = ds.read()
        nodata = codes == -128
        # nodata is all bands or none, a few hundred pixels in the south-west corner
        assert (nodata.all(axis=0) == nodata.any(axis=0)).all()
        hole = nodata[0]
        assert 100 < hole.sum() < 1000 and hole[-1, 0] and not hole[0].any() and not hole[:, -1].any()
        np.testing.assert_array_equal(read_labels(folder, year) == 255, hole)


def test_valid_vectors_have_unit_length(vectors):
    for v in vectors.values():
        norms = np.sqrt(dot(v, v)[~np.isnan(v[..., 0])])
        assert abs(norms.mean() - 1) < 0.01
        assert np.abs(norms - 1).max() < 0.03


@pytest.mark.parametrize("level", [0, 3])
def test_overviews_are_renormalised_means(folder, level):
    f = 2 ** (level + 1)
    codes = read_codes(folder / "aef_sample_2024.tif")[:, -256:]  # the southern quarter, with the nodata corner
    overview = np.moveaxis(read_codes(folder / "aef_sample_2024.tif", overview_level=level), 0, -1)[-256 // f :]
    rows, cols = overview.shape[:2]
    v = np.nan_to_num(dequantize(codes))  # nodata adds nothing to a block's sum
    total = v.reshape(rows, f, cols, f, 64).sum(axis=(1, 3), dtype=np.float64)
    has_data = (codes[0] != -128).reshape(rows, f, cols, f).any(axis=(1, 3))
    mean = total[has_data] / np.linalg.norm(total[has_data], axis=1, keepdims=True)
    expected = np.clip(np.rint(np.sign(mean) * np.sqrt(np.abs(mean)) * 127.5), -127, 127)
    assert np.abs(overview[has_data].astype(np.int16) - expected).max() <= 1
    assert (overview[~has_data] == -128).all()
    # GDAL's average of the int8 codes would fail this test (measured: 7% of the codes off by more than 1 at
    # factor 2, where neighbours are alike; more at coarser levels)
    naive = np.moveaxis(np.rint(codes.reshape(64, rows, f, cols, f).mean(axis=(2, 4))), 0, -1)
    assert (np.abs(naive[has_data] - expected) > 1).mean() > 0.02


def test_overview_block_next_to_nodata_averages_only_valid_pixels(folder):
    codes = read_codes(folder / "aef_sample_2022.tif")
    overview = read_codes(folder / "aef_sample_2022.tif", overview_level=0)
    hole = (codes == -128).all(axis=0)
    partial = hole.reshape(512, 2, 512, 2).sum(axis=(1, 3))
    r, c = np.argwhere((partial > 0) & (partial < 4))[0]
    block = dequantize(codes[:, 2 * r : 2 * r + 2, 2 * c : 2 * c + 2]).reshape(-1, 64)
    mean = np.nanmean(block, axis=0)
    mean /= np.linalg.norm(mean)
    expected = np.rint(np.sign(mean) * np.sqrt(np.abs(mean)) * 127.5)
    assert np.abs(overview[:, r, c] - expected).max() <= 1
    assert (overview[:, partial == 4] == -128).all()


# --- determinism --------------------------------------------------------------------------------------------------
def test_generation_is_deterministic(tmp_path):
    a, b, other = tmp_path / "a", tmp_path / "b", tmp_path / "other"
    # 128 px, as the cache tests generate: the same generator, every file and year, a sixteenth of the pixels
    synthetic.write_sample(a, size=128)
    synthetic.write_sample(b, size=128)
    synthetic.write_sample(other, size=128, seed=7)
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in (f"aef_sample_{year}.tif" for year in YEARS):
        np.testing.assert_array_equal(read_codes(a / name), read_codes(b / name))
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert not np.array_equal(read_codes(a / "aef_sample_2022.tif"), read_codes(other / "aef_sample_2022.tif"))


# --- realism and truth --------------------------------------------------------------------------------------------
def unit_class_means(v: np.ndarray, labels: np.ndarray) -> np.ndarray:
    means = np.array([v[labels == c].mean(axis=0) for c in range(6)])
    return means / np.linalg.norm(means, axis=1, keepdims=True)


def test_within_class_spread_and_smoothness_match_the_real_raster(vectors, folder):
    with rasterio.open(REAL_FLOAT32) as ds:
        real = np.moveaxis(ds.read().astype(np.float64), 0, -1)
    x = real.reshape(-1, 64)
    km = KMeans(n_clusters=8, n_init=10, random_state=0).fit(x)
    centres = km.cluster_centers_ / np.linalg.norm(km.cluster_centers_, axis=1, keepdims=True)
    real_median = np.median((x * centres[km.labels_]).sum(axis=1))  # measured: 0.951

    v, labels = vectors[2022], read_labels(folder, 2022)
    means = unit_class_means(v, labels)
    ok = labels != 255
    synthetic_median = np.median(dot(v[ok], means[labels[ok]]))  # measured: 0.957
    assert abs(synthetic_median - real_median) < 0.015
    between = (means @ means.T)[np.triu_indices(6, 1)]  # real centroids: 0.35..0.93
    assert between.min() > 0.2 and between.max() < 0.93
    # neighbouring pixels are about as similar as in real embeddings (measured: real 0.9962, sample 0.9965)
    real_neighbours = np.median((real[:, 1:] * real[:, :-1]).sum(axis=2))
    sample_neighbours = np.nanmedian(dot(v[:, 1:], v[:, :-1]))
    assert abs(sample_neighbours - real_neighbours) < 0.003


def test_truth_labels_are_recoverable_by_clustering(vectors, folder):
    v, labels = vectors[2023], read_labels(folder, 2023)
    ok = labels != 255
    x, y = v[ok], labels[ok]
    fit_on = np.random.default_rng(0).choice(len(x), 20_000, replace=False)
    km = KMeans(n_clusters=6, n_init=4, random_state=0).fit(x[fit_on])
    # measured: 0.54; k-means splits the varied cropland in two and merges bare into one half, as it would on
    # real fields; every other class is recovered almost whole
    assert adjusted_rand_score(y, km.predict(x)) > 0.44


def test_abrupt_events_are_detectable_between_consecutive_years(vectors, folder, cache):
    truth = sample_truth(cache)
    with rasterio.open(folder / "events.tif") as ds:
        stable = ds.read(1) == 0  # no event ever
    abrupt = [(e, y) for e in truth.events for y, step in e.steps.items() if step != "regrowth" and e.kind != "gradual"]
    assert sorted((e.name, y) for e, y in abrupt) == [
        ("clearing", 2023), ("construction", 2024), ("fire", 2019), ("reservoir", 2024), ("reservoir", 2025)
    ]  # fmt: skip
    for year in sorted({y for _, y in abrupt}):
        similarity = dot(vectors[year - 1], vectors[year])
        valid = ~np.isnan(similarity)
        with rasterio.open(folder / f"change_{year - 1}_{year}.tif") as ds:
            np.testing.assert_array_equal(ds.read(1) == 255, ~valid)
        planted = np.zeros_like(valid)
        for e, y in abrupt:
            planted |= truth.event_mask(e.name) & (y == year)
        planted &= valid
        assert planted.sum() > 2000
        detected = (1 - similarity > 0.25) & valid
        f1 = 2 * (detected & planted).sum() / (detected.sum() + planted.sum())
        assert f1 > 0.8, (year, f1)  # measured 0.84 (2019: the fire, burnt forest is closer to forest), 0.92-0.98
        assert np.median(similarity[planted]) < 0.7  # measured: 0.5
        quiet = valid & stable
        assert 0.94 < np.median(similarity[quiet]) < 0.98  # measured: 0.96
        assert np.quantile(similarity[quiet], 0.05) > 0.87  # measured: 0.90


def test_gradual_and_recovering_events_change_little_each_year_and_much_over_the_years(vectors, cache):
    truth = sample_truth(cache)
    slow, fire = truth.event_mask("abandonment"), truth.event_mask("fire")
    first = vectors[YEARS[0]][slow]
    to_first = [np.nanmean(dot(vectors[y][slow], first)) for y in YEARS]
    steps = [np.nanmedian(dot(vectors[a][slow], vectors[b][slow])) for a, b in zip(YEARS[:-1], YEARS[1:])]
    assert np.all(np.diff(to_first) < 0) and to_first[-1] < 0.75  # measured 0.66 after seven years
    assert min(steps) > 0.93  # each year a step no larger than the yearly noise (measured 0.94-0.97)
    # the burnt stand regrows: back to the forest it was, closer every year after the fire
    before = vectors[2018][fire]
    regrowth = [np.nanmedian(dot(vectors[y][fire], before)) for y in range(2019, 2025)]
    assert regrowth[0] < 0.7 and np.all(np.diff(regrowth) > 0) and regrowth[-1] > 0.85


def test_sample_truth_describes_the_files(cache, folder):
    truth = sample_truth(cache)
    assert truth.years == YEARS
    assert truth.class_names == {0: "water", 1: "forest", 2: "cropland", 3: "grassland", 4: "bare", 5: "urban"}
    assert set(truth.class_colours) == set(truth.class_names)
    assert truth.grid.shape == (1024, 1024) and truth.grid.crs.to_epsg() == 32616
    assert truth.grid.bounds == (352000, 4912000 - 10240, 352000 + 10240, 4912000)
    for year in YEARS:
        labels = truth.labels(year)
        assert labels.dtype == np.uint8 and labels.shape == (1024, 1024)
        assert set(np.unique(labels)) == {0, 1, 2, 3, 4, 5, 255}
    for a, b in zip(YEARS[:-1], YEARS[1:]):
        with rasterio.open(folder / f"change_{a}_{b}.tif") as ds:
            np.testing.assert_array_equal(truth.change(a, b), ds.read(1) == 1)
    across = truth.change(2022, 2024)
    assert across.dtype == bool
    assert not ((truth.change(2022, 2023) | truth.change(2023, 2024)) & ~across).any()  # no change is undone
    assert not truth.change(2023, 2023).any()
    with pytest.raises(YearError, match="2017"):
        truth.labels(2017)
    # the events: disjoint masks, each where its land cover really changes in its year
    names = [e.name for e in truth.events]
    assert names == ["fire", "clearing", "construction", "reservoir", "abandonment"]
    assert {e.name: e.year for e in truth.events} == {
        "fire": 2019, "clearing": 2023, "construction": 2024, "reservoir": 2024, "abandonment": None
    }  # fmt: skip
    masks = [truth.event_mask(name) for name in names]
    assert (np.sum(masks, axis=0) <= 1).all() and all(m.sum() > 2000 for m in masks)
    for e, mask in zip(truth.events, masks):
        if e.year is not None:
            changed = truth.change(e.year - 1, e.year) & mask
            assert changed.sum() > 0.9 * (mask & (truth.labels(e.year) != 255)).sum(), e.name
    reservoir = masks[names.index("reservoir")]
    assert not (truth.change(2023, 2025) & reservoir).any()  # refilled
    with pytest.raises(KeyError, match="flood"):
        truth.event("flood")
    info = json.loads((folder / "classes.json").read_text())
    assert info["synthetic"] is True and "Google DeepMind" in info["attribution"]


def test_sample_source_opens_every_year(cache):
    source = sample_source(cache)
    assert source.years == YEARS and source.synthetic and "not real" in source.name
    assert source.footprint.bounds == pytest.approx((352000, 4912000 - 10240, 352000 + 10240, 4912000))


def test_shipped_class_statistics_name_their_source():
    data = json.loads(SHIPPED_JSON.read_text())
    assert data["attribution"] == (
        "The AlphaEarth Foundations Satellite Embedding dataset is produced by Google and Google DeepMind."
    )
    assert data["derived_from"]["sha256"] == hashlib.sha256(REAL_FLOAT32.read_bytes()).hexdigest()
    assert [c["name"] for c in data["classes"]] == ["water", "forest", "cropland", "grassland", "bare", "urban"]
    for c in data["classes"]:
        assert abs(np.linalg.norm(c["centroid"]) - 1) < 1e-3 and len(c["components"]) == len(c["component_std"])


# --- cache --------------------------------------------------------------------------------------------------------
def mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def test_cache_is_reused_and_env_var_respected(cache, folder, monkeypatch, tmp_path):
    before = mtimes(folder)
    assert sample_dir(cache) == folder
    monkeypatch.setenv(CACHE_ENV, str(cache))
    assert sample_dir() == folder
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "elsewhere"))
    assert sample_dir(cache) == folder  # an explicit folder wins over the variable
    assert mtimes(folder) == before
    assert sorted(p.name for p in cache.iterdir()) == [folder.name]


@pytest.fixture
def small_generator(monkeypatch):
    """Generate 128 px samples so cache tests that really generate stay fast."""
    monkeypatch.setattr(synthetic, "write_sample", functools.partial(synthetic.write_sample, size=128))


def test_env_var_chooses_where_a_new_sample_goes(small_generator, monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "env-cache"))
    folder = sample_dir()
    assert folder == tmp_path / "env-cache" / f"sample-v{SAMPLE_VERSION}"
    assert read_labels(folder, 2024).shape == (128, 128)


def test_concurrent_generation_never_shows_half_a_dataset(small_generator, tmp_path):
    results, errors = [], []

    def run() -> None:
        try:
            folder = sample_dir(tmp_path)
            results.append((folder, sorted(p.name for p in folder.iterdir())))
        except Exception as e:  # collected so the assertion below reports it
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({folder for folder, _ in results}) == 1 and all(len(names) == 25 for _, names in results)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"sample-v{SAMPLE_VERSION}"]  # no temporary left


def test_a_new_sample_version_removes_the_older_ones_and_nothing_else(small_generator, tmp_path):
    older = tmp_path / f"sample-v{SAMPLE_VERSION - 1}"
    (older / "aef_sample_2024.tif").parent.mkdir()
    (older / "aef_sample_2024.tif").write_bytes(b"an older sample")
    newer, other = tmp_path / f"sample-v{SAMPLE_VERSION + 1}", tmp_path / "release"
    newer.mkdir()
    other.mkdir()
    folder = sample_dir(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([folder.name, newer.name, other.name])


def test_damaged_cache_is_regenerated(small_generator, tmp_path):
    folder = sample_dir(tmp_path)
    (folder / "labels_2023.tif").unlink()
    assert sample_dir(tmp_path) == folder
    assert (folder / "labels_2023.tif").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]


def test_unwritable_cache_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(SourceError, match=CACHE_ENV):
        sample_dir(blocker)
