"""Shared by the kernel tests: device choice, tolerances, layouts and the reference comparison.

The Triton kernels run compiled on a CUDA GPU, or in Triton's CPU interpreter otherwise
(tests/conftest.py sets TRITON_INTERPRET=1 when no GPU is present).
"""
from __future__ import annotations

from typing import Callable, Sequence

import pytest
import torch

from munit_fast.kernels import triton_available

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")

# (dtype, atol, rtol). Both paths compute in fp32 from the same inputs and round once to
# the output dtype, so low precision differs by at most one unit in the last place:
# fp16 ulp <= 2**-10 relative (rtol 1e-3), bf16 ulp <= 2**-7 relative (rtol 8e-3); the
# atol of the same size covers values near zero. fp32 differs only by summation order:
# 1e-5 absolute and relative at these row lengths.
DTYPE_TOLERANCES = [
    (torch.float32, 1e-5, 1e-5),
    (torch.float16, 1e-3, 1e-3),
    (torch.bfloat16, 8e-3, 8e-3),
]

ACTIVATIONS = ["none", "relu", "lrelu"]

requires_triton = pytest.mark.skipif(not triton_available(), reason="needs Triton (CUDA, or its CPU interpreter)")


def make(shape: Sequence[int], dtype=torch.float32, channels_last: bool = False) -> torch.Tensor:
    t = torch.randn(*shape, device=DEVICE).to(dtype)
    return t.to(memory_format=torch.channels_last) if channels_last else t


def assert_matches_reference(
    fast: Callable[..., torch.Tensor],
    ref: Callable[..., torch.Tensor],
    leaves: Sequence[torch.Tensor],
    atol: float,
    rtol: float,
) -> torch.Tensor:
    """Outputs and the gradients of every leaf agree; returns the fast output."""
    fast_leaves = [t.detach().clone().requires_grad_() for t in leaves]
    ref_leaves = [t.detach().clone().requires_grad_() for t in leaves]
    y = fast(*fast_leaves)
    y_ref = ref(*ref_leaves)
    torch.testing.assert_close(y, y_ref, atol=atol, rtol=rtol, msg=lambda m: f"output: {m}")
    grad = torch.randn_like(y_ref)
    grads = torch.autograd.grad(y, fast_leaves, grad)
    grads_ref = torch.autograd.grad(y_ref, ref_leaves, grad)
    for i, (g, g_ref) in enumerate(zip(grads, grads_ref)):
        torch.testing.assert_close(g, g_ref, atol=atol, rtol=rtol, msg=lambda m, i=i: f"grad of input {i}: {m}")
    return y
