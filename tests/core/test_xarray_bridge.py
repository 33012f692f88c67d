"""Fields to xarray and back, georeferenced as rioxarray reads it: rioxarray itself (not this package) must find the
CRS and transform of ``to_xarray``'s arrays, and ``from_xarray`` must take arrays that rioxarray opened from a file
(``rioxarray.open_rasterio``: dims band, y, x; bands numbered, not named)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import rioxarray
import xarray as xr

from aef_widgets.core.bands import BAND_NAMES
from aef_widgets.core.field import EmbeddingField
from aef_widgets.core.xarray_bridge import product_array
from aef_widgets.sources.open import open_source

#: rioxarray's own transform code multiplies Affine objects with ``*``, which affine 3.1 asks to replace with ``@``
pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning:rioxarray.*")


def test_to_xarray_is_y_x_band_with_rioxarray_georeferencing_and_nan_for_no_data(int8_with_hole) -> None:
    path, hole = int8_with_hole
    source = open_source(path)
    field = source.read_window(source.grid(), 2024)
    da = field.to_xarray()
    assert da.dims == ("y", "x", "band") and list(da["band"].values) == list(BAND_NAMES)
    with rasterio.open(path) as ds:
        assert da.rio.crs == ds.crs
        assert da.rio.transform() == ds.transform
        assert da.rio.transform(recalc=True) == ds.transform  # the coordinates are pixel centres
        assert da.sel(x=ds.xy(50, 10)[0], y=ds.xy(50, 10)[1], method="nearest").band.size == 64
    assert np.isnan(da.values[hole]).all() and np.isfinite(da.values[~hole]).all()
    assert da.attrs["year"] == 2024


def test_from_xarray_round_trips_and_reads_an_array_rioxarray_opened(real_float32, real_values) -> None:
    source = open_source(real_float32)
    field = source.read_window(source.grid(), 2024)
    back = EmbeddingField.from_xarray(field.to_xarray())
    assert back.grid == field.grid and back.year == 2024
    np.testing.assert_array_equal(back.values, field.values)
    opened = rioxarray.open_rasterio(real_float32)  # (band, y, x), bands 1..64
    read = EmbeddingField.from_xarray(opened, year=2024)
    assert read.grid == field.grid
    np.testing.assert_allclose(read.values, real_values, atol=0)
    flipped = EmbeddingField.from_xarray(field.to_xarray().isel(y=slice(None, None, -1)))  # rows stored bottom-up
    assert flipped.grid == field.grid
    np.testing.assert_array_equal(flipped.values, field.values)
    shuffled = field.to_xarray().isel(band=np.arange(64)[::-1])  # bands by label, not position
    np.testing.assert_array_equal(EmbeddingField.from_xarray(shuffled).values, field.values)


def test_from_xarray_refuses_arrays_that_are_not_fields_in_words(real_float32) -> None:
    da = open_source(real_float32).read(None, 2024).to_xarray()
    with pytest.raises(ValueError, match="64 bands"):
        EmbeddingField.from_xarray(da.isel(band=slice(0, 3)))
    with pytest.raises(ValueError, match="no CRS"):
        EmbeddingField.from_xarray(xr.DataArray(da.values, dims=("y", "x", "band")))


def test_a_product_is_a_y_x_array_on_the_fields_grid(real_float32) -> None:
    field = open_source(real_float32).read(None, 2024)
    classes = np.arange(field.grid.width * field.grid.height, dtype=np.int16).reshape(field.grid.shape)
    da = product_array(classes, field.grid, "classes", nodata=-1)
    assert da.dims == ("y", "x") and da.rio.transform() == field.grid.transform and da.rio.crs == field.grid.crs
    np.testing.assert_array_equal(da.values, classes)
