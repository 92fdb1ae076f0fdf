"""The PyTorch reference normalization on channels_last inputs: the same values and gradients
as F.instance_norm, computed in the input's own layout (no copy to NCHW and back), and
F.instance_norm itself under tracing, so exports still see InstanceNormalization.

Tolerance 1e-5 absolute and relative: both compute in fp32 from the same inputs and differ only
in summation order (plain reductions here, batch norm's there)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from munit_fast.kernels import adain_ref, instance_norm_ref
from munit_fast.kernels.adain import instance_normalize_ref

SHAPES = [(2, 5, 7, 9), (1, 64, 32, 32)]


def channels_last(t: torch.Tensor) -> torch.Tensor:
    return t.to(memory_format=torch.channels_last)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_channels_last_matches_instance_norm_and_keeps_its_layout(shape):
    x = channels_last(torch.randn(shape) * 3 + 0.5).requires_grad_()
    x_nchw = x.detach().contiguous().requires_grad_()
    y = instance_normalize_ref(x, 1e-5)
    y_ref = F.instance_norm(x_nchw, eps=1e-5)
    assert y.is_contiguous(memory_format=torch.channels_last) and not y.is_contiguous()
    torch.testing.assert_close(y, y_ref, atol=1e-5, rtol=1e-5)
    grad = torch.randn(shape)
    torch.testing.assert_close(torch.autograd.grad(y, x, grad)[0], torch.autograd.grad(y_ref, x_nchw, grad)[0],
                               atol=1e-5, rtol=1e-5)


def test_adain_and_instance_norm_references_stay_channels_last():
    x, residual = channels_last(torch.randn(2, 4, 8, 8)), channels_last(torch.randn(2, 4, 8, 8))
    y = adain_ref(x, torch.randn(2, 4), torch.randn(2, 4), "relu", residual)
    assert y.is_contiguous(memory_format=torch.channels_last)
    assert instance_norm_ref(x, "lrelu").is_contiguous(memory_format=torch.channels_last)


def test_constant_planes_normalize_to_zero_with_finite_gradients():
    x = channels_last(torch.full((1, 3, 4, 4), 2.5)).requires_grad_()
    y = instance_normalize_ref(x, 1e-5)
    assert torch.equal(y.detach(), torch.zeros_like(y))
    assert torch.isfinite(torch.autograd.grad(y.sum(), x)[0]).all()


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
def test_tracing_a_channels_last_input_records_instance_norm():
    x = channels_last(torch.randn(1, 4, 6, 6))
    traced = torch.jit.trace(lambda t: instance_normalize_ref(t, 1e-5), (x,))
    assert "instance_norm" in str(traced.graph)
