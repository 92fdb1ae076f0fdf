"""Instance norm (no affine) + activation (+ residual), statistics in fp32 (eps 1e-5)."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from .activation import apply_activation_ref
from .dispatch import resolve_impl


def instance_norm_ref(
    x: torch.Tensor,  # (B, C, H, W)
    activation: str = "none",
    residual: Optional[torch.Tensor] = None,  # (B, C, H, W)
    eps: float = 1e-5,
) -> torch.Tensor:  # (B, C, H, W)
    dtype = x.dtype
    y = apply_activation_ref(F.instance_norm(x.float(), eps=eps), activation)
    if residual is not None:
        y = y + residual.float()
    return y.to(dtype)


def instance_norm(
    x: torch.Tensor,  # (B, C, H, W)
    activation: str = "none",
    residual: Optional[torch.Tensor] = None,  # (B, C, H, W)
    eps: float = 1e-5,
    impl: str = "auto",
) -> torch.Tensor:  # (B, C, H, W)
    if resolve_impl(impl, x) == "triton":
        from .instance_norm_triton import instance_norm_triton

        return instance_norm_triton(x, activation, residual, eps)
    return instance_norm_ref(x, activation, residual, eps)
