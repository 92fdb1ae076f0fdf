"""The largest rows the kernels promise: H*W = 4096 x 4096 (16.7 M elements per row), and
tensors past 2**31 elements (64-bit addressing), against the reference in fp64.

fp32 keeps the usual 1e-5 tolerance at this length: the split reduction sums each chunk about
the row's first element in many independent lanes, so the statistics' relative error stays
below 1e-6 (3.5e-7 measured for rstd over 4096 x 4096 normal values in 4 chunks).
No activation here: among tens of millions of values a few sit within fp32 rounding of the
ReLU's kink, where any two fp32 computations may disagree on its derivative (0 or 1); the
activations are covered by the other kernel tests.
"""
from __future__ import annotations

import pytest
import torch
from kernel_checks import DEVICE, assert_matches_reference, make, requires_triton

from munit_fast.kernels import adain, adain_ref, instance_norm, instance_norm_ref, norm_elementwise, norm_split

pytestmark = requires_triton

SIDE = 4096
# In the interpreter every program is a numpy step: tiles of a million elements keep the
# 16.7 M-element rows to a few dozen programs (compiled, the real tiles run).
INTERPRETER_TILE = 1 << 20


@pytest.fixture
def big_interpreter_tiles(monkeypatch):
    if DEVICE.type == "cuda":
        return
    import triton

    monkeypatch.setattr(norm_split, "SPLIT_TILE_NCHW", (1, INTERPRETER_TILE))
    monkeypatch.setattr(norm_split, "SPLIT_TILE_CHANNELS_LAST", (2, INTERPRETER_TILE // 2))
    tiles = {"nchw": [triton.Config({"BLOCK_C": 1, "BLOCK_HW": INTERPRETER_TILE}, num_warps=4)],
             "channels_last": [triton.Config({"BLOCK_C": 2, "BLOCK_HW": INTERPRETER_TILE // 2}, num_warps=4)]}
    for layout in tiles:
        for kernel in (f"_normalize_{layout}", f"_normalize_backward_{layout}"):
            monkeypatch.setattr(getattr(norm_elementwise, kernel), "configs", tiles[layout])


def in_fp64(ref):
    """The reference computed in fp64 from fp32 leaves, returned in fp32 (gradients flow through the casts)."""
    return lambda *leaves: ref(*(t.double() for t in leaves)).float()


def test_instance_norm_over_4k_by_4k_rows_in_channels_last(big_interpreter_tiles):
    x = make((1, 2, SIDE, SIDE), channels_last=True) * 2 + 0.5  # 2 channels: the smallest channels_last
    assert_matches_reference(lambda t: instance_norm(t, impl="triton"), in_fp64(instance_norm_ref), [x], 1e-5, 1e-5)


def test_adain_with_residual_over_4k_by_4k_rows_in_nchw(big_interpreter_tiles):
    x, residual = make((1, 1, SIDE, SIDE)), make((1, 1, SIDE, SIDE))
    scale, bias = make((1, 1)), make((1, 1))

    def fast(x, scale, bias, residual):
        return adain(x, scale, bias, "none", residual, impl="triton")

    def ref(x, scale, bias, residual):
        return adain_ref(x, scale, bias, "none", residual)

    assert_matches_reference(fast, in_fp64(ref), [x, scale, bias, residual], 1e-5, 1e-5)


@pytest.mark.skipif(DEVICE.type != "cuda", reason="2**31 elements (4.3 GB in fp16) need a GPU; "
                    "the interpreter would take hours")
def test_tensor_past_2_to_the_31_elements():
    """(1, 129, 4096, 4096) fp16: the last channel starts past element 2**31, so any 32-bit
    offset would wrap; checked there and in the first channel, forward and dx."""
    if torch.cuda.get_device_properties(DEVICE).total_memory < 40 * 2**30:
        pytest.skip("needs a GPU with 40 GB of memory")
    channels = 129
    assert (channels - 1) * SIDE * SIDE >= 2**31
    x = torch.randn(1, channels, SIDE, SIDE, device=DEVICE, dtype=torch.float16).requires_grad_()
    y = instance_norm(x, impl="triton")
    grad = torch.randn_like(y)  # a random upstream gradient: dx is then O(1) everywhere, not ~0
    (dx,) = torch.autograd.grad(y, [x], grad)
    for c in (0, channels - 1):
        xc = x.detach()[:, c:c + 1].double().requires_grad_()
        yc = instance_norm_ref(xc)
        (dxc,) = torch.autograd.grad(yc, [xc], grad[:, c:c + 1].double())
        # fp16 output rounding (one ulp: 1e-3 relative, see kernel_checks.DTYPE_TOLERANCES)
        torch.testing.assert_close(y[:, c:c + 1].double(), yc, atol=1e-3, rtol=1e-3)
        torch.testing.assert_close(dx[:, c:c + 1].double(), dxc, atol=1e-3, rtol=1e-3)
