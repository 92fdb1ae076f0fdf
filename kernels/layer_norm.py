"""MUNIT's own LayerNorm + affine + activation.

Not torch's LayerNorm: per sample over (C, H, W), mean and the *unbiased* standard deviation,
y = (x - mean) / (std + eps) * gamma[c] + beta[c], eps 1e-5 added to the std. Statistics in
fp32; works on NCHW and channels_last tensors alike.
"""
from __future__ import annotations

import torch

from .activation import apply_activation_ref
from .dispatch import resolve_impl


def layer_norm_ref(
    x: torch.Tensor,  # (B, C, H, W)
    gamma: torch.Tensor,  # (C,)
    beta: torch.Tensor,  # (C,)
    activation: str = "none",
    eps: float = 1e-5,
) -> torch.Tensor:  # (B, C, H, W)
    dtype = x.dtype
    x32 = x.float()
    dims = tuple(range(1, x.dim()))
    var, mean = torch.var_mean(x32, dim=dims, keepdim=True, correction=1)
    shape = [1, -1] + [1] * (x.dim() - 2)
    y = (x32 - mean) / (var.sqrt() + eps) * gamma.float().view(shape) + beta.float().view(shape)
    return apply_activation_ref(y, activation).to(dtype)


def layer_norm(
    x: torch.Tensor,  # (B, C, H, W)
    gamma: torch.Tensor,  # (C,)
    beta: torch.Tensor,  # (C,)
    activation: str = "none",
    eps: float = 1e-5,
    impl: str = "auto",
) -> torch.Tensor:  # (B, C, H, W)
    if resolve_impl(impl, x) == "triton":
        from .layer_norm_triton import layer_norm_triton

        return layer_norm_triton(x, gamma, beta, activation, eps)
    return layer_norm_ref(x, gamma, beta, activation, eps)
