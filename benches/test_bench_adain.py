"""AdaIN + relu + residual (the decoder's residual-block epilogue): Triton vs eager vs torch.compile,
beside the stream ceiling.

    pytest benches/test_bench_adain.py -m quick               # CI-sized case
    pytest benches/test_bench_adain.py                        # the MUNIT shape grid
    pytest benches/test_bench_adain.py --benchmark-disable    # one call each, error only

extra_info: GB/s of the ideal traffic (fwd: x, residual read, y written; fwd_bwd adds x and
dy read, dx written), max abs error against the fp32 reference, hardware.
"""
from __future__ import annotations

import pytest
import torch
from kernel_bench import BACKEND_MODES, DEVICE, DTYPES, SHAPES, max_error, op_for, record, skip_unavailable

from munit_fast.kernels import adain, adain_ref


def _fast(x, scale, bias, residual):
    return adain(x, scale, bias, "relu", residual, impl="triton")


def _ref(x, scale, bias, residual):
    return adain_ref(x, scale, bias, "relu", residual)


def _stream(x, scale, bias, residual):
    return torch.add(x, residual)  # reads x and the residual, writes y: AdaIN's traffic, no reduction


@pytest.mark.parametrize("backend, mode", BACKEND_MODES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_adain(benchmark, shape, dtype, backend, mode):
    skip_unavailable(backend, dtype)
    grad = mode == "fwd_bwd"
    x = torch.randn(shape, device=DEVICE, dtype=dtype, requires_grad=grad)
    residual = torch.randn(shape, device=DEVICE, dtype=dtype, requires_grad=grad)
    scale = torch.randn(shape[:2], device=DEVICE, dtype=dtype, requires_grad=grad)
    bias = torch.randn(shape[:2], device=DEVICE, dtype=dtype, requires_grad=grad)
    inputs = (x, scale, bias, residual)
    op = op_for(backend, _fast, _ref, _stream)
    with torch.no_grad():
        error = max_error(backend, op(*inputs), _ref(*(t.float() for t in inputs)))
    tensor_bytes = x.numel() * x.element_size()
    bytes_moved = 3 * tensor_bytes + (3 * tensor_bytes if grad else 0)
    record(benchmark, op, inputs, mode, bytes_moved, error, op="adain", shape=list(shape),
           dtype=str(dtype), backend=backend)
