"""AdaIN + activation (+ residual): the Triton kernels against the PyTorch reference."""
from __future__ import annotations

import pytest
import torch
from kernel_checks import ACTIVATIONS, DTYPE_TOLERANCES, assert_matches_reference, make, requires_triton

from munit_fast.kernels import adain, adain_ref, norm_split

pytestmark = requires_triton

SHAPES = [  # (B, C, H, W)
    (2, 3, 1, 1),  # H*W = 1: the normalized value is 0, only the bias passes
    (2, 5, 7, 9),  # odd sizes, C not a power of two
    (3, 4, 16, 16),  # a full power-of-two row
    (2, 3, 19, 23),  # rows longer than one block on the split path (437 > 64 elements)
]


def _fast(activation, with_residual):
    def run(x, scale, bias, *residual):
        return adain(x, scale, bias, activation, residual[0] if with_residual else None, impl="triton")
    return run


def _ref(activation, with_residual):
    def run(x, scale, bias, *residual):
        return adain_ref(x, scale, bias, activation, residual[0] if with_residual else None)
    return run


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "channels_last"])
@pytest.mark.parametrize("activation,with_residual", [("none", False), ("lrelu", True)])
def test_matches_reference_fp32(shape, channels_last, activation, with_residual, kernel_path):
    x = make(shape, channels_last=channels_last)
    scale, bias = make(shape[:2]), make(shape[:2])
    leaves = [x, scale, bias] + ([make(shape, channels_last=channels_last)] if with_residual else [])
    y = assert_matches_reference(_fast(activation, with_residual), _ref(activation, with_residual), leaves, 1e-5, 1e-5)
    assert y.is_contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


@pytest.mark.parametrize("dtype,atol,rtol", DTYPE_TOLERANCES, ids=str)
@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "channels_last"])
def test_low_precision(dtype, atol, rtol, channels_last, kernel_path):
    shape = (2, 5, 7, 9)
    leaves = [make(shape, dtype, channels_last), make(shape[:2], dtype), make(shape[:2], dtype),
              make(shape, dtype, channels_last)]
    y = assert_matches_reference(_fast("lrelu", True), _ref("lrelu", True), leaves, atol, rtol)
    assert y.dtype == dtype


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_batch_of_styles_broadcasts_one_content_map(activation, kernel_path):
    """x with batch 1 against K = 3 styles; the residual too."""
    x, residual = make((1, 4, 6, 5)), make((1, 4, 6, 5))
    scale, bias = make((3, 4)), make((3, 4))
    inputs = [x, scale, bias, residual]
    y = assert_matches_reference(_fast(activation, True), _ref(activation, True), inputs, 1e-5, 1e-5)
    assert y.shape == (3, 4, 6, 5)


def test_scale_and_bias_of_different_layouts(kernel_path):
    """bias transposed in memory (strides (1, B)) while scale is contiguous: each read right."""
    def transposed(x, scale, bias_t):  # bias_t (C, B): its transpose is a (B, C) view
        return x, scale, bias_t.t()

    def fast(x, scale, bias_t):
        return adain(*transposed(x, scale, bias_t), "relu", None, impl="triton")

    def ref(x, scale, bias_t):
        return adain_ref(*transposed(x, scale, bias_t), "relu", None)

    assert_matches_reference(fast, ref, [make((3, 4, 6, 5)), make((3, 4)), make((4, 3))], 1e-5, 1e-5)


@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "channels_last"])
def test_batch_expanded_inputs(channels_last, kernel_path):
    """x and residual given as stride-0 views ``t.expand(K, ...)``, as the decoder passes them."""
    k = 3

    def fast(x, scale, bias, residual):
        return adain(x.expand(k, -1, -1, -1), scale, bias, "relu", residual.expand(k, -1, -1, -1), impl="triton")

    def ref(x, scale, bias, residual):
        return adain_ref(x.expand(k, -1, -1, -1), scale, bias, "relu", residual.expand(k, -1, -1, -1))

    leaves = [make((1, 4, 5, 7), channels_last=channels_last), make((k, 4)), make((k, 4)),
              make((1, 4, 5, 7), channels_last=channels_last)]
    assert_matches_reference(fast, ref, leaves, 1e-5, 1e-5)


def test_statistics_stay_accurate_with_a_large_mean(kernel_path):
    """Rows with mean 1000 and std 1: E[x^2] - E[x]^2 in fp32 would be off by percents; the
    kernels sum about the mean (single pass) or about a sample of the row (split reduction)."""
    x = make((2, 3, 19, 23)) + 1000.0
    scale, bias = make((2, 3)), make((2, 3))
    torch.testing.assert_close(adain(x, scale, bias, impl="triton"), adain_ref(x, scale, bias), atol=1e-3, rtol=0)


def test_inference_calls_skip_autograd_and_match_training_calls(kernel_path):
    """Without grad the kernels run with no autograd.Function: same values, no graph kept."""
    shape = (2, 5, 7, 9)
    x, scale, bias, residual = (make(s).requires_grad_() for s in (shape, shape[:2], shape[:2], shape))
    tracked = adain(x, scale, bias, "relu", residual, impl="triton")
    with torch.no_grad():
        untracked = adain(x, scale, bias, "relu", residual, impl="triton")
    assert tracked.grad_fn is not None and untracked.grad_fn is None
    torch.testing.assert_close(untracked, tracked, rtol=0, atol=0)


@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "channels_last"])
@pytest.mark.parametrize("styles", [None, 3], ids=["own-content", "one-content-3-styles"])
def test_rows_of_many_chunks_take_a_statistics_launch(channels_last, styles, many_chunk_rows):
    shape = (1 if styles else 2, 3, 19, 23)
    x = make(shape, channels_last=channels_last)
    scale, bias = make((styles or 2, 3)), make((styles or 2, 3))
    residual = make((styles or 2,) + shape[1:], channels_last=channels_last)
    assert norm_split.partial_sums(x.detach(), per_sample=False)[0].shape[0] > 1  # several chunks per row
    assert_matches_reference(_fast("lrelu", True), _ref("lrelu", True), [x, scale, bias, residual], 1e-5, 1e-5)
