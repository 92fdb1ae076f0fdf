"""AdaIN + activation (+ residual): y = act(scale[b,c] * (x - mu[b,c]) * rstd[b,c] + bias[b,c]) (+ r).

The statistics are per sample and channel over H*W (biased variance, eps 1e-5), computed in
fp32 whatever the input dtype. ``x`` may have batch 1 while ``scale``/``bias`` have batch K:
one content map decoded with K styles.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from .activation import apply_activation_ref
from .dispatch import resolve_impl


def adain_ref(
    x: torch.Tensor,  # (B or 1, C, H, W)
    scale: torch.Tensor,  # (B, C) per-sample "std" from the style MLP
    bias: torch.Tensor,  # (B, C) per-sample "mean" from the style MLP
    activation: str = "none",
    residual: Optional[torch.Tensor] = None,  # (B or 1, C, H, W)
    eps: float = 1e-5,
) -> torch.Tensor:  # (B, C, H, W)
    """The reference: instance norm, then a per-sample Mul/Add (exports as InstanceNormalization + Mul + Add)."""
    dtype = x.dtype
    normalized = F.instance_norm(x.float(), eps=eps)
    y = normalized * scale.float()[:, :, None, None] + bias.float()[:, :, None, None]
    y = apply_activation_ref(y, activation)
    if residual is not None:
        y = y + residual.float()
    return y.to(dtype)


def adain(
    x: torch.Tensor,  # (B or 1, C, H, W)
    scale: torch.Tensor,  # (B, C)
    bias: torch.Tensor,  # (B, C)
    activation: str = "none",
    residual: Optional[torch.Tensor] = None,  # (B or 1, C, H, W)
    eps: float = 1e-5,
    impl: str = "auto",
) -> torch.Tensor:  # (B, C, H, W)
    if resolve_impl(impl, x) == "triton":
        from .adain_triton import adain_triton

        return adain_triton(x, scale, bias, activation, residual, eps)
    return adain_ref(x, scale, bias, activation, residual, eps)
