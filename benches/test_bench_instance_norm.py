"""Instance norm + relu (the content encoder's epilogue): Triton vs eager vs torch.compile, beside the stream ceiling.

    pytest benches/test_bench_instance_norm.py -m quick               # CI-sized case
    pytest benches/test_bench_instance_norm.py                        # the MUNIT shape grid
    pytest benches/test_bench_instance_norm.py --benchmark-disable    # one call each, error only

Both memory layouts are measured: channels_last runs its own wide-in-C tiles, no copy.
extra_info: GB/s of the ideal traffic (fwd: x read, y written; fwd_bwd adds x and dy read,
dx written), max abs error against the fp32 reference, hardware.
"""
from __future__ import annotations

import pytest
import torch
from kernel_bench import BACKEND_MODES, DEVICE, DTYPES, SHAPES, max_error, op_for, record, skip_unavailable

from munit_fast.kernels import instance_norm, instance_norm_ref


def _fast(x):
    return instance_norm(x, "relu", impl="triton")


def _ref(x):
    return instance_norm_ref(x, "relu")


def _stream(x):
    return torch.relu(x)  # reads x, writes y: instance norm's traffic, no reduction


@pytest.mark.parametrize("layout", ["nchw", "channels_last"])
@pytest.mark.parametrize("backend, mode", BACKEND_MODES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_instance_norm(benchmark, shape, dtype, backend, mode, layout):
    skip_unavailable(backend, dtype)
    memory_format = torch.channels_last if layout == "channels_last" else torch.contiguous_format
    x = torch.randn(shape, device=DEVICE, dtype=dtype).to(memory_format=memory_format)
    x.requires_grad_(mode == "fwd_bwd")
    op = op_for(backend, _fast, _ref, _stream)
    with torch.no_grad():
        error = max_error(backend, op(x), _ref(x.float()))
    tensor_bytes = x.numel() * x.element_size()
    bytes_moved = 2 * tensor_bytes + (3 * tensor_bytes if mode == "fwd_bwd" else 0)
    record(benchmark, op, (x,), mode, bytes_moved, error, op="instance_norm", shape=list(shape),
           dtype=str(dtype), backend=backend, layout=layout)
