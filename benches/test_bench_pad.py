"""Reflection padding before a convolution: the Triton kernel vs PyTorch's (eager) vs torch.compile,
beside the stream ceiling, forward and forward + backward (training pads with the kernel too).

    pytest benches/test_bench_pad.py                        # CUDA; on CPU the eager cases only
    pytest benches/test_bench_pad.py --benchmark-disable    # one call each, error only

Shapes are the generator's padded conv inputs at 256x256 (batch 1 and 4). extra_info: GB/s of
the ideal traffic (fwd: x read once, the padded y written once; fwd_bwd adds the padded
gradient read once and x's gradient written once), max abs error of the output against F.pad in
fp32 (0: padding copies values), hardware.
"""
from __future__ import annotations

import pytest
import torch
from kernel_bench import BACKEND_MODES, DEVICE, DTYPES, op_for, record, skip_unavailable

from munit_fast.kernels import pad2d, pad2d_ref

# (B, C, H, W, pad): the 3-pixel pad of the first and last convs' inputs, a res block's 1 pixel,
# the decoder's 2 pixels after the first upsampling; the first is the CI-sized case.
PAD_SHAPES = [
    pytest.param((1, 256, 64, 64, 1), marks=pytest.mark.quick, id="res-256px-b1"),
    pytest.param((4, 256, 64, 64, 1), marks=pytest.mark.slow, id="res-256px-b4"),
    pytest.param((1, 64, 256, 256, 3), marks=pytest.mark.slow, id="dec-out-256px-b1"),
    pytest.param((4, 128, 128, 128, 2), marks=pytest.mark.slow, id="dec-up1-256px-b4"),
]


@pytest.mark.parametrize("layout", ["nchw", "channels_last"])
@pytest.mark.parametrize("backend, mode", BACKEND_MODES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", PAD_SHAPES)
def test_pad(benchmark, case, dtype, backend, mode, layout):
    skip_unavailable(backend, dtype)
    *shape, p = case
    padding = (p, p, p, p)
    memory_format = torch.channels_last if layout == "channels_last" else torch.contiguous_format
    x = torch.randn(shape, device=DEVICE, dtype=dtype).to(memory_format=memory_format)
    x.requires_grad_(mode == "fwd_bwd")
    op = op_for(backend, lambda t: pad2d(t, padding, impl="triton"), lambda t: pad2d_ref(t, padding),
                lambda t: t.clone())  # stream: reads x, writes a copy of it (y is slightly larger)
    with torch.no_grad():
        error = None if backend == "stream" else (op(x).float() - pad2d_ref(x.float(), padding)).abs().max().item()
    b, c, h, w = shape
    tensor_bytes = (b * c * h * w + b * c * (h + 2 * p) * (w + 2 * p)) * x.element_size()
    bytes_moved = tensor_bytes * (2 if mode == "fwd_bwd" else 1)
    record(benchmark, op, (x,), mode, bytes_moved, error, op="reflection_pad", shape=[*shape], pad=p,
           dtype=str(dtype), backend=backend, layout=layout)
