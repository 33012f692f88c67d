"""The int8 encoding of the public Cloud-Optimized GeoTIFF release.

Each float ``v`` is stored as an integer ``q`` in -127..127 with ``v = sign(q) * (q / 127.5) ** 2``;
``-128`` marks nodata in every band. Earth Engine serves exactly these dequantized values as floats, so a
float export can be re-encoded without loss.
"""

from __future__ import annotations

import numpy as np

NODATA_INT8 = -128
_Q = np.arange(-128, 128, dtype=np.float64)
_VALUES = np.sign(_Q) * (_Q / 127.5) ** 2
_VALUES[0] = np.nan  # q = -128 is nodata, never a value
#: Float32 value of every int8 code, indexed by the code viewed as uint8.
DEQUANTIZE_LUT: np.ndarray = np.roll(_VALUES, -128).astype(np.float32)
#: ``127.5 ** 2``, exact in float32: ``q * |q| / _SCALE`` is then the correctly rounded value of every code, which
#: is what the table holds (``test_quantization`` checks all 255).
_SCALE = np.float32(127.5**2)
#: Rows of 64 codes dequantized at a time: 128 KiB of float32, so each of the few passes over a block stays in cache.
_BLOCK_ROWS = 512
_BLOCK = _BLOCK_ROWS * 64


def dequantize(q: np.ndarray) -> np.ndarray:
    """Float32 values of int8 codes; nodata (-128) becomes NaN."""
    q = np.asarray(q)
    if q.dtype != np.int8:
        raise TypeError(f"expected int8 codes, got {q.dtype}")
    return dequantize_into(q, np.empty(q.shape, dtype=np.float32))


def dequantize_into(q: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Float32 values of int8 codes written into ``out`` (C-contiguous float32 of q's shape); nodata becomes NaN.

    The values of ``DEQUANTIZE_LUT``, computed rather than looked up, in blocks that stay in cache: numpy's take
    first casts its indices to int64, a temporary of eight bytes a code (128 MiB for one 512 x 512 view) that
    glibc then keeps, and its gathers are not vectorised; converting, squaring and dividing are.
    """
    if q.dtype != np.int8 or out.dtype != np.float32 or q.shape != out.shape or not out.flags.c_contiguous:
        raise TypeError(f"expected int8 codes and a C-contiguous float32 array of their shape, got {q.dtype}")
    codes, flat = q.reshape(-1), out.reshape(-1)  # copies only when q is not contiguous
    for start in range(0, flat.size, _BLOCK):
        _dequantize_block(codes[start : start + _BLOCK], flat[start : start + _BLOCK])
    return out


def dequantize_summed(q: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``dequantize_into`` for (n, bands) codes, also returning each row's float32 sum (NaN for a row with nodata).

    The sums are taken block by block while the values are still in cache, which saves reading the whole output
    from memory again to find the pixels without data (``sources.rasterfile.finish_vectors``).
    """
    if q.dtype != np.int8 or out.dtype != np.float32 or q.shape != out.shape or q.ndim != 2:
        raise TypeError(f"expected (n, bands) int8 codes and a float32 array of their shape, got {q.dtype}")
    if not out.flags.c_contiguous:
        raise TypeError("dequantize_summed writes into a C-contiguous array")
    codes = np.ascontiguousarray(q)
    totals = np.empty(len(q), dtype=np.float32)
    ones = np.ones(q.shape[1], dtype=np.float32)
    rows = max(1, _BLOCK // max(1, q.shape[1]))
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, len(q), rows):
            block = out[start : start + rows]
            _dequantize_block(codes[start : start + rows].reshape(-1), block.reshape(-1))
            np.matmul(block, ones, out=totals[start : start + rows])
    return totals


def _dequantize_block(codes: np.ndarray, out: np.ndarray) -> None:
    np.copyto(out, codes, casting="unsafe")  # exact: every int8 is a float32
    np.multiply(out, np.abs(out), out=out)
    np.divide(out, _SCALE, out=out)
    if codes.min(initial=0) == NODATA_INT8:  # most blocks have no nodata: skip the comparison and masked copy
        np.copyto(out, np.float32(np.nan), where=codes == NODATA_INT8)


def quantize(values: np.ndarray) -> np.ndarray:
    """Nearest int8 codes of float values; NaN and infinities become nodata (-128)."""
    values = np.asarray(values)
    if values.dtype == np.float32 and np.isfinite(values).all():
        return _quantize_float32(values)
    return _quantize_exact(values)


def _quantize_exact(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    v = np.where(finite, v, 0.0)
    q = np.clip(np.rint(np.sign(v) * np.sqrt(np.abs(v)) * 127.5), -127, 127).astype(np.int8)
    q[~finite] = NODATA_INT8
    return q


def _quantize_float32(values: np.ndarray) -> np.ndarray:
    """Exactly ``_quantize_exact`` for finite float32, several times faster.

    Rounds in float32 and lets the float64 path redo the rare values within rounding error of a tie; works through
    blocks that stay in cache, since touching large fresh temporaries dominates otherwise.
    """
    flat = np.ascontiguousarray(values).reshape(-1)
    out = np.empty(flat.shape, dtype=np.int8)
    for i in range(0, flat.size, 1 << 16):
        v = flat[i : i + (1 << 16)]
        a = np.abs(v)
        np.sqrt(a, out=a)
        a *= np.float32(127.5)
        r = np.rint(a)
        near_tie = np.abs(a - r) > np.float32(0.499)
        np.minimum(r, 127, out=r)
        np.copysign(r, v, out=r)
        q = out[i : i + (1 << 16)]
        q[:] = r
        q[near_tie] = _quantize_exact(v[near_tie])
    return out.reshape(values.shape)
