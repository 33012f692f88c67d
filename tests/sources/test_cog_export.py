"""Products written as COGs validate as COGs (rio-cogeo's port of GDAL's validate_cloud_optimized_geotiff) and
read back with rasterio on the same CRS and grid, with their values, nodata and band descriptions."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rio_cogeo import cog_validate

from aef_widgets.analysis.temporal import ChangeYears, RobustScale
from aef_widgets.core.grid import Grid
from aef_widgets.engines.product_export import (
    export_anomaly,
    export_change_years,
    export_classes,
    export_rgb,
    export_values,
)
from aef_widgets.engines.temporal_workflows import AnomalyMap
from aef_widgets.sources.cog_export import write_cog

GRID = Grid(Affine(10, 0, 352000, 0, -10, 4912000), 1100, 700, CRS.from_epsg(32616))  # larger than 512: overviews


def valid_cog(path) -> None:
    ok, errors, warnings = cog_validate(path, quiet=True)
    assert ok and not errors and not warnings, (errors, warnings)
    with rasterio.open(path) as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert ds.crs == GRID.crs and ds.transform == GRID.transform and ds.shape == GRID.shape
        assert ds.overviews(1) and ds.block_shapes[0] == (256, 256)


def test_the_validator_rejects_a_plain_geotiff(tmp_path):
    path = tmp_path / "striped.tif"
    profile = {"driver": "GTiff", "dtype": "float32", "count": 1, "width": GRID.width, "height": GRID.height}
    with rasterio.open(path, "w", crs=GRID.crs, transform=GRID.transform, **profile) as ds:
        ds.write(np.zeros((1, *GRID.shape), np.float32))
    ok, errors, _ = cog_validate(path, quiet=True)
    assert not ok and any("not tiled" in e for e in errors)


def test_values_keep_nan_as_nodata_and_their_description(tmp_path):
    values = np.random.default_rng(0).uniform(-1, 1, GRID.shape).astype(np.float32)
    values[:50, :70] = np.nan
    path = export_values(tmp_path / "similarity.tif", values, GRID, "similarity (cosine)", YEAR="2024")
    valid_cog(path)
    with rasterio.open(path) as ds:
        assert ds.dtypes == ("float32",) and np.isnan(ds.nodata) and ds.descriptions == ("similarity (cosine)",)
        np.testing.assert_array_equal(ds.read(1), values)
        assert ds.tags()["YEAR"] == "2024"
        masked = ds.read(1, masked=True)
        assert masked.mask[:50, :70].all() and not masked.mask[50:].any()


def test_classes_have_255_for_no_class_a_colour_table_and_nearest_overviews(tmp_path):
    labels = (np.arange(GRID.width)[None] // 100 % 4 + np.zeros(GRID.shape, int)).astype(np.int16)
    labels[600:] = -1
    path = export_classes(tmp_path / "clusters.tif", labels, GRID, ["#ff0000", "#00ff00", "#0000ff", "#ffffff"])
    valid_cog(path)
    with rasterio.open(path) as ds:
        assert ds.nodata == 255 and ds.descriptions == ("class",)
        data = ds.read(1)
        np.testing.assert_array_equal(data[:600], labels[:600])
        assert (data[600:] == 255).all()
        assert ds.colormap(1)[1] == (0, 255, 0, 255)
        overview = ds.read(1, out_shape=(GRID.height // 4, GRID.width // 4))
        assert set(np.unique(overview)) <= {0, 1, 2, 3, 255}  # never a class between two


def test_rgb_is_three_bytes_with_zero_for_no_data(tmp_path):
    rgb = np.random.default_rng(1).uniform(0, 1, (*GRID.shape, 3))
    rgb[10, 10] = np.nan
    path = export_rgb(tmp_path / "rgb.tif", rgb, GRID)
    valid_cog(path)
    with rasterio.open(path) as ds:
        assert ds.count == 3 and ds.nodata == 0 and ds.descriptions == ("red", "green", "blue")
        data = np.moveaxis(ds.read(), 0, -1)
    assert (data[10, 10] == 0).all() and (np.delete(data.reshape(-1, 3), 10 * GRID.width + 10, 0) >= 1).all()
    np.testing.assert_allclose((data[0, 0] - 1) / 254, rgb[0, 0], atol=0.5 / 254)


def test_when_it_changed_and_the_anomaly(tmp_path):
    rng = np.random.default_rng(2)
    year = rng.integers(2019, 2026, GRID.shape).astype(np.int16)
    size = rng.uniform(0, 1, GRID.shape).astype(np.float32)
    year[:5], size[:5] = 0, np.nan  # fewer than two years with data
    product = ChangeYears(tuple(range(2018, 2026)), year, size, GRID)
    path = export_change_years(tmp_path / "when.tif", product, threshold=0.5)
    valid_cog(path)
    valid_cog(tmp_path / "when_size.tif")
    with rasterio.open(path) as ds, rasterio.open(tmp_path / "when_size.tif") as sz:
        data = ds.read(1)
        assert ds.dtypes == ("int16",) and ds.nodata == -1 and "year of the largest" in ds.descriptions[0]
        assert (data[:5] == -1).all()
        np.testing.assert_array_equal(data[5:], np.where(size[5:] >= 0.5, year[5:], 0))
        np.testing.assert_array_equal(sz.read(1), size)
    raw = rng.uniform(0, 0.5, GRID.shape).astype(np.float32)
    raw[0] = np.nan
    scale = RobustScale(float(np.nanmedian(raw)), 0.1)
    path = export_anomaly(tmp_path / "anomaly.tif", AnomalyMap(2024, (2018, 2024), raw, scale.score(raw), scale, GRID))
    valid_cog(path)
    with rasterio.open(path) as ds:
        np.testing.assert_array_equal(ds.read(1), raw)
        np.testing.assert_allclose(ds.read(2), (raw - scale.median) / 0.1, rtol=1e-6)
        assert float(ds.tags()["SCALE"]) == 0.1 and ds.descriptions[1].startswith("robust score")


def test_bad_shapes_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="do not match the grid"):
        write_cog(tmp_path / "x.tif", np.zeros((3, 3)), GRID, ["x"])
    with pytest.raises(ValueError, match="descriptions"):
        write_cog(tmp_path / "x.tif", np.zeros(GRID.shape), GRID, [])
