"""MUNIT's LayerNorm + relu (the decoder's up-sampling epilogue): Triton vs eager vs torch.compile,
beside the stream ceiling.

    pytest benches/test_bench_layer_norm.py -m quick               # CI-sized case
    pytest benches/test_bench_layer_norm.py                        # the decoder's shapes
    pytest benches/test_bench_layer_norm.py --benchmark-disable    # one call each, error only

extra_info: GB/s of the ideal traffic (fwd: x read, y written; fwd_bwd adds x and dy read,
dx written), max abs error against the fp32 reference, hardware.
"""
from __future__ import annotations

import pytest
import torch
from kernel_bench import BACKEND_MODES, DEVICE, DTYPES, max_error, op_for, record, skip_unavailable

from munit_fast.kernels import layer_norm, layer_norm_ref

SHAPES = [  # (B, C, H, W) after the decoder's up-sampling convolutions
    pytest.param((1, 128, 128, 128), marks=pytest.mark.quick, id="up1-256px-b1"),
    pytest.param((1, 64, 256, 256), marks=pytest.mark.slow, id="up2-256px-b1"),
    pytest.param((8, 128, 128, 128), marks=pytest.mark.slow, id="up1-256px-b8"),
    pytest.param((4, 64, 270, 480), marks=pytest.mark.slow, id="up2-270x480-b4"),
]


def _fast(x, gamma, beta):
    return layer_norm(x, gamma, beta, "relu", impl="triton")


def _ref(x, gamma, beta):
    return layer_norm_ref(x, gamma, beta, "relu")


def _stream(x, gamma, beta):
    return torch.relu(x)  # reads x, writes y: LayerNorm's traffic, no reduction


@pytest.mark.parametrize("backend, mode", BACKEND_MODES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_layer_norm(benchmark, shape, dtype, backend, mode):
    skip_unavailable(backend, dtype)
    grad = mode == "fwd_bwd"
    x = torch.randn(shape, device=DEVICE, dtype=dtype, requires_grad=grad)
    gamma = torch.rand(shape[1], device=DEVICE, dtype=dtype, requires_grad=grad)
    beta = torch.randn(shape[1], device=DEVICE, dtype=dtype, requires_grad=grad)
    op = op_for(backend, _fast, _ref, _stream)
    with torch.no_grad():
        error = max_error(backend, op(x, gamma, beta), _ref(x.float(), gamma.float(), beta.float()))
    tensor_bytes = x.numel() * x.element_size()
    bytes_moved = 2 * tensor_bytes + (3 * tensor_bytes if grad else 0)
    record(benchmark, op, (x, gamma, beta), mode, bytes_moved, error, op="layer_norm", shape=list(shape),
           dtype=str(dtype), backend=backend)
