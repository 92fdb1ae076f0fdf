"""Instance norm + activation (+ residual): the Triton kernels against the PyTorch reference."""
from __future__ import annotations

import pytest
import torch
from kernel_checks import DTYPE_TOLERANCES, assert_matches_reference, make, requires_triton

from munit_fast.kernels import instance_norm, instance_norm_ref, norm_split

pytestmark = requires_triton

SHAPES = [  # (B, C, H, W)
    (2, 3, 1, 1),  # H*W = 1: the output is the activation of 0 (+ residual)
    (2, 3, 19, 23),  # odd sizes; rows longer than one block on the split path (437 > 64 elements)
]


def _fast(activation, with_residual):
    def run(x, *residual):
        return instance_norm(x, activation, residual[0] if with_residual else None, impl="triton")
    return run


def _ref(activation, with_residual):
    def run(x, *residual):
        return instance_norm_ref(x, activation, residual[0] if with_residual else None)
    return run


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "channels_last"])
@pytest.mark.parametrize("activation,with_residual", [("relu", False), ("none", True)])
def test_matches_reference_fp32(shape, channels_last, activation, with_residual, kernel_path):
    leaves = [make(shape, channels_last=channels_last)]
    leaves += [make(shape, channels_last=channels_last)] if with_residual else []
    assert_matches_reference(_fast(activation, with_residual), _ref(activation, with_residual), leaves, 1e-5, 1e-5)


@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES, ids=str)
def test_low_precision(dtype, atol, rtol, kernel_path):
    shape = (2, 5, 7, 9)
    leaves = [make(shape, dtype, channels_last=True), make(shape, dtype)]  # mixed layouts: x and residual
    y = assert_matches_reference(_fast("lrelu", True), _ref("lrelu", True), leaves, atol, rtol)
    assert y.dtype == dtype


def test_grad_of_unused_residual_is_none():
    """A residual without requires_grad gets no gradient; x still does."""
    x = make((2, 3, 4, 5)).requires_grad_()
    y = instance_norm(x, "relu", make((2, 3, 4, 5)), impl="triton")
    (grad,) = torch.autograd.grad(y.sum(), [x])
    assert grad.shape == x.shape


@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "channels_last"])
def test_rows_of_many_chunks_take_a_statistics_launch(channels_last, many_chunk_rows):
    x = make((2, 3, 19, 23), channels_last=channels_last)
    assert norm_split.partial_sums(x.detach(), per_sample=False)[0].shape[0] > 1  # several chunks per row
    assert_matches_reference(_fast("relu", False), _ref("relu", False), [x], 1e-5, 1e-5)
