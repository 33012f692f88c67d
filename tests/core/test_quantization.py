import numpy as np
import pytest
import rasterio

from aef_widgets.core import quantization
from aef_widgets.core.quantization import (
    DEQUANTIZE_LUT,
    NODATA_INT8,
    dequantize,
    dequantize_into,
    dequantize_summed,
    quantize,
)


def test_dequantize_matches_the_published_formula_for_every_code():
    q = np.arange(-127, 128, dtype=np.int8)
    expected = np.sign(q.astype(np.float64)) * (q.astype(np.float64) / 127.5) ** 2
    np.testing.assert_allclose(dequantize(q), expected, rtol=0, atol=1e-7)


def test_nodata_code_dequantizes_to_nan():
    assert np.isnan(dequantize(np.array([NODATA_INT8], dtype=np.int8))).all()


def test_dequantize_into_fills_the_buffer_block_by_block_like_a_lookup(monkeypatch):
    monkeypatch.setattr(quantization, "_BLOCK", 1000)  # several blocks and a short last one
    q = np.random.default_rng(0).integers(-128, 128, (37, 41, 3), dtype=np.int16).astype(np.int8)
    out = np.empty(q.shape, dtype=np.float32)
    assert dequantize_into(q[:, ::-1], out) is out  # codes need not be contiguous
    np.testing.assert_array_equal(out, DEQUANTIZE_LUT[q[:, ::-1].view(np.uint8)])
    with pytest.raises(TypeError, match="C-contiguous float32"):
        dequantize_into(q, np.empty(q.shape, dtype=np.float64))
    with pytest.raises(TypeError, match="C-contiguous float32"):
        dequantize_into(q[:, :3], out[:, ::20])  # same shape, strided


def test_quantize_inverts_dequantize_and_marks_non_finite_as_nodata():
    q = np.arange(-127, 128, dtype=np.int8)
    np.testing.assert_array_equal(quantize(dequantize(q)), q)
    assert (quantize(np.array([np.nan, np.inf, -np.inf])) == NODATA_INT8).all()


def test_real_int8_file_dequantizes_to_the_real_float32_file(real_int8, real_float32):
    with rasterio.open(real_int8) as a, rasterio.open(real_float32) as b:
        q, f = a.read(), b.read()
    np.testing.assert_allclose(dequantize(q), f, rtol=0, atol=1e-6)


def test_the_fast_float32_path_gives_exactly_the_float64_codes():
    rng = np.random.default_rng(1)
    ties = ((np.arange(-127, 128) + 0.5) / 127.5) ** 2  # values whose code is a tie
    values = np.concatenate([rng.normal(0, 0.15, 300_000), ties, -ties, [0.0, 1.0, -1.0, 2.0, -2.0]])
    values = values.astype(np.float32)
    np.testing.assert_array_equal(quantize(values), quantize(values.astype(np.float64)))


@pytest.mark.parametrize("summed", [False, True])
def test_dequantized_vectors_equal_the_table_and_their_validity_is_read_exactly(summed):
    from aef_widgets.sources.rasterfile import finish_vectors

    rng = np.random.default_rng(3)
    codes = rng.integers(-127, 128, size=(1500, 64)).astype(np.int8)  # not a whole number of blocks
    codes[0] = np.arange(-127, -63)  # every code appears somewhere
    codes[1] = np.arange(-63, 1)
    codes[2] = np.arange(1, 65)
    codes[3] = np.arange(64, 128)
    codes[10, 17] = NODATA_INT8  # one band missing
    codes[11] = NODATA_INT8
    codes[12] = 0  # all zero: a gap, not a vector
    codes[13] = 0
    codes[13, :2] = (5, -5)  # sums to exactly zero, yet is a vector
    out = np.empty(codes.shape, dtype=np.float32)
    if summed:  # as RasterFile.read_vectors does: the row sums taken while each block is in cache
        valid = finish_vectors(out, dequantize_summed(codes, out))
    else:
        valid = finish_vectors(dequantize_into(codes, out))
    expected_valid = ~(codes == NODATA_INT8).any(axis=1) & (codes != 0).any(axis=1)
    np.testing.assert_array_equal(valid, expected_valid)
    assert not valid[[10, 11, 12]].any() and valid[13]
    expected = DEQUANTIZE_LUT[codes.view(np.uint8)]
    expected[~expected_valid] = np.nan
    np.testing.assert_array_equal(out.view(np.uint32)[valid], expected.view(np.uint32)[valid])  # bit for bit
    assert np.isnan(out[~valid]).all()
