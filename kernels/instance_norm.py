"""Instance norm (no affine) + activation (+ residual), statistics in fp32 (eps 1e-5).

The Triton path is AdaIN without the affine: ``adain.AdaINFunction`` with no scale/bias.
"""
from __future__ import annotations

from typing import Optional

import torch

from .activation import apply_activation_ref
from .adain import AdaINFunction, instance_forward, instance_normalize_ref
from .dispatch import needs_autograd, resolve_impl
from .utils import statistics_dtype


def instance_norm(
    x: torch.Tensor,  # (B, C, H, W)
    activation: str = "none",
    residual: Optional[torch.Tensor] = None,  # (B, C, H, W)
    eps: float = 1e-5,
    impl: str = "auto",
) -> torch.Tensor:  # (B, C, H, W)
    if resolve_impl(impl, x) == "triton":
        if needs_autograd(x, residual):
            return AdaINFunction.apply(x, None, None, residual, activation, eps)
        return instance_forward(x, None, None, residual, activation, eps)[0]
    return instance_norm_ref(x, activation, residual, eps)


def instance_norm_ref(
    x: torch.Tensor,  # (B, C, H, W)
    activation: str = "none",
    residual: Optional[torch.Tensor] = None,  # (B, C, H, W)
    eps: float = 1e-5,
) -> torch.Tensor:  # (B, C, H, W)
    dtype = x.dtype
    acc = statistics_dtype(x)
    y = apply_activation_ref(instance_normalize_ref(x.to(acc), eps), activation)
    if residual is not None:
        y = y + residual.to(acc)
    return y.to(dtype)
