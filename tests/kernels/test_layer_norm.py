"""MUNIT's LayerNorm (unbiased std, eps on the std) + gamma/beta + activation: Triton vs reference."""
from __future__ import annotations

import pytest
import torch
from kernel_checks import DTYPE_TOLERANCES, assert_matches_reference, make, requires_triton

from munit_fast.kernels import layer_norm, layer_norm_ref

pytestmark = requires_triton

SHAPES = [  # (B, C, H, W); a sample's row is C*H*W long
    (2, 3, 1, 1),  # H*W = 1: statistics over the channels alone
    (2, 5, 7, 9),  # odd sizes, C not a power of two
    (1, 3, 19, 23),  # batch 1; rows longer than one block and split into chunks
]


def _fast(activation):
    return lambda x, gamma, beta: layer_norm(x, gamma, beta, activation, impl="triton")


def _ref(activation):
    return lambda x, gamma, beta: layer_norm_ref(x, gamma, beta, activation)


def _params(channels, dtype=torch.float32):
    gamma = torch.rand(channels).to(dtype)  # MUNIT initialises gamma uniform [0, 1)
    return [gamma.to(make((1,)).device), make((channels,), dtype)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "channels_last"])
@pytest.mark.parametrize("activation", ["none", "lrelu"])  # relu is lrelu with slope 0
def test_matches_reference_fp32(shape, channels_last, activation, kernel_path):
    leaves = [make(shape, channels_last=channels_last)] + _params(shape[1])
    y = assert_matches_reference(_fast(activation), _ref(activation), leaves, 1e-5, 1e-5)
    assert y.is_contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES, ids=str)
@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "channels_last"])
def test_low_precision(dtype, atol, rtol, channels_last, kernel_path):
    shape = (2, 5, 7, 9)
    leaves = [make(shape, dtype, channels_last)] + _params(shape[1], dtype)
    y = assert_matches_reference(_fast("relu"), _ref("relu"), leaves, atol, rtol)
    assert y.dtype == dtype


def test_inference_calls_skip_autograd_and_match_training_calls(kernel_path):
    """Without grad the kernels run with no autograd.Function: same values, no graph kept."""
    x = make((2, 5, 7, 9)).requires_grad_()
    gamma, beta = (p.requires_grad_() for p in _params(5))
    tracked = layer_norm(x, gamma, beta, "relu", impl="triton")
    with torch.no_grad():
        untracked = layer_norm(x, gamma, beta, "relu", impl="triton")
    assert tracked.grad_fn is not None and untracked.grad_fn is None
    torch.testing.assert_close(untracked, tracked, rtol=0, atol=0)
