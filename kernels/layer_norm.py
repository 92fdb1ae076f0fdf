"""MUNIT's own LayerNorm + affine + activation.

Not torch's LayerNorm: per sample over (C, H, W), mean and the *unbiased* standard deviation,
y = (x - mean) / (std + eps) * gamma[c] + beta[c], eps 1e-5 added to the std. Statistics in
fp32; works on NCHW and channels_last tensors alike.

The Triton path runs the split reduction of ``norm_split`` (a sample's row is C*H*W long,
far beyond one block): per-(b, c) partial sums, one program per sample adding them into the
statistics, then ``norm_elementwise``'s pass with the per-sample statistics broadcast over
channels (channel stride 0) and gamma/beta broadcast over samples (batch stride 0).
"""
from __future__ import annotations

from typing import Tuple

import torch

from .activation import apply_activation_ref
from .dispatch import needs_autograd, resolve_impl
from .norm_elementwise import normalize, normalize_backward
from .norm_split import split_grad_terms, split_statistics
from .utils import statistics_dtype


def _per_sample(v: torch.Tensor, channels: int) -> torch.Tensor:  # (B,) -> (B, C) view, channel stride 0
    return v[:, None].expand(-1, channels)


def _per_channel(v: torch.Tensor, batch: int) -> torch.Tensor:  # (C,) -> (B, C) view, batch stride 0
    return v[None, :].expand(batch, -1)


def _layer_norm_forward(
    x: torch.Tensor,  # (B, C, H, W)
    gamma: torch.Tensor, beta: torch.Tensor,  # (C,)
    activation: str, eps: float,
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:  # y; mean, rstd, std (B,) fp32
    batch, channels = x.shape[:2]
    mean, rstd, std = split_statistics(x, eps, per_sample=True)
    y = normalize(
        x, _per_sample(mean, channels), _per_sample(rstd, channels),
        _per_channel(gamma, batch), _per_channel(beta, batch), None, activation, batch,
    )
    return y, mean, rstd, std


def _layer_norm_backward(
    grad: torch.Tensor,  # (B, C, H, W)
    x: torch.Tensor,  # (B, C, H, W)
    gamma: torch.Tensor, beta: torch.Tensor,  # (C,)
    mean: torch.Tensor, rstd: torch.Tensor, std: torch.Tensor,  # (B,) fp32
    activation: str,
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # dx (B, C, H, W), dgamma, dbeta (C,) fp32
    batch, channels = x.shape[:2]
    mean_bc, rstd_bc = _per_sample(mean, channels), _per_sample(rstd, channels)
    gamma_bc, beta_bc = _per_channel(gamma, batch), _per_channel(beta, batch)
    coef, sum_dy, sum_dy_xhat = split_grad_terms(
        grad, x, mean_bc, rstd_bc, std, gamma_bc, beta_bc, activation)
    dx = normalize_backward(grad, x, mean_bc, rstd_bc, gamma_bc, beta_bc, coef, activation)
    return dx, sum_dy_xhat.sum(0), sum_dy.sum(0)


class LayerNormFunction(torch.autograd.Function):
    """Fused MUNIT LayerNorm + gamma/beta + activation; gradients for x, gamma and beta."""

    @staticmethod
    def forward(ctx, x, gamma, beta, activation, eps):
        y, mean, rstd, std = _layer_norm_forward(x, gamma, beta, activation, eps)
        ctx.save_for_backward(x, gamma, beta, mean, rstd, std)
        ctx.activation = activation
        return y

    @staticmethod
    def backward(ctx, grad):
        x, gamma, beta, mean, rstd, std = ctx.saved_tensors
        dx, dgamma, dbeta = _layer_norm_backward(grad, x, gamma, beta, mean, rstd, std, ctx.activation)
        need_x, need_gamma, need_beta = ctx.needs_input_grad[:3]
        return (
            dx if need_x else None,
            dgamma.to(gamma.dtype) if need_gamma else None,
            dbeta.to(beta.dtype) if need_beta else None,
            None, None,
        )


def layer_norm(
    x: torch.Tensor,  # (B, C, H, W)
    gamma: torch.Tensor,  # (C,)
    beta: torch.Tensor,  # (C,)
    activation: str = "none",
    eps: float = 1e-5,
    impl: str = "auto",
) -> torch.Tensor:  # (B, C, H, W)
    if resolve_impl(impl, x) == "triton":
        if needs_autograd(x, gamma, beta):
            return LayerNormFunction.apply(x, gamma, beta, activation, eps)
        return _layer_norm_forward(x, gamma, beta, activation, eps)[0]
    return layer_norm_ref(x, gamma, beta, activation, eps)


def layer_norm_ref(
    x: torch.Tensor,  # (B, C, H, W)
    gamma: torch.Tensor,  # (C,)
    beta: torch.Tensor,  # (C,)
    activation: str = "none",
    eps: float = 1e-5,
) -> torch.Tensor:  # (B, C, H, W)
    dtype = x.dtype
    acc = statistics_dtype(x)
    x_acc = x.to(acc)
    dims = tuple(range(1, x.dim()))
    var, mean = torch.var_mean(x_acc, dim=dims, keepdim=True, correction=1)
    shape = [1, -1] + [1] * (x.dim() - 2)
    y = (x_acc - mean) / (var.sqrt() + eps) * gamma.to(acc).view(shape) + beta.to(acc).view(shape)
    return apply_activation_ref(y, activation).to(dtype)
