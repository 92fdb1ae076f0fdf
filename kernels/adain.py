"""AdaIN + activation (+ residual): y = act(scale[b,c] * (x - mu[b,c]) * rstd[b,c] + bias[b,c]) (+ r).

The statistics are per sample and channel over H*W (biased variance, eps 1e-5), computed in
fp32 whatever the input dtype. ``x`` may have batch 1 (or be a batch-expanded view) while
``scale``/``bias`` have batch K: one content map decoded with K styles. Instance norm is this
op without the affine (``scale = bias = None``) and shares its kernels and autograd.Function.

Reading order: host forward/backward over the Triton kernels (``norm_fused``'s single pass
for short rows; for long ones ``norm_split``'s reduction, then ``norm_elementwise``'s pass),
the ``autograd.Function``, the public function, the PyTorch reference.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F

from .activation import apply_activation_ref
from .dispatch import needs_autograd, resolve_impl, tracing
from .norm_elementwise import normalize_backward_from_sums, normalize_from_sums
from .norm_fused import fused_backward, fused_forward, fused_tile
from .norm_split import partial_grad_sums, partial_sums
from .utils import is_channels_last, statistics_dtype


def instance_forward(
    x: torch.Tensor,  # (B or 1, C, H, W)
    scale: Optional[torch.Tensor], bias: Optional[torch.Tensor],  # (B, C) or None
    residual: Optional[torch.Tensor],  # (B or 1, C, H, W) or None
    activation: str, eps: float,
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # y (B, C, H, W); mean, rstd (B, C) fp32
    batch = x.shape[0] if scale is None else scale.shape[0]
    tile = fused_tile(x)
    if tile is not None:
        return fused_forward(x, scale, bias, residual, activation, eps, batch, tile)
    # A batch-expanded x holds one map: its statistics are computed once.
    stats_x = x[:1] if x.shape[0] > 1 and x.stride(0) == 0 else x
    sums = partial_sums(stats_x, per_sample=False)
    return normalize_from_sums(x, sums, eps, scale, bias, residual, activation, batch)


def instance_backward(
    grad: torch.Tensor,  # (B, C, H, W)
    x: torch.Tensor,  # (B or 1, C, H, W)
    mean: torch.Tensor, rstd: torch.Tensor,  # (B, C) fp32
    scale: Optional[torch.Tensor], bias: Optional[torch.Tensor],  # (B, C) or None
    activation: str,
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # dx per output sample (B, C, H, W); dbias, dscale (B, C)
    tile = fused_tile(x)
    if tile is not None:
        return fused_backward(grad, x, mean, rstd, scale, bias, activation, tile)
    sums = partial_grad_sums(grad, x, mean, rstd, scale, bias, activation)
    return normalize_backward_from_sums(grad, x, mean, rstd, scale, bias, sums, activation)


class AdaINFunction(torch.autograd.Function):
    """Fused AdaIN / instance norm + activation + residual; gradients for x, scale, bias, residual."""

    @staticmethod
    def forward(ctx, x, scale, bias, residual, activation, eps):
        y, mean, rstd = instance_forward(x, scale, bias, residual, activation, eps)
        ctx.save_for_backward(x, scale, bias, mean, rstd)
        ctx.activation = activation
        ctx.residual_meta = None if residual is None else (residual.shape[0], residual.dtype)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, scale, bias, mean, rstd = ctx.saved_tensors
        need_x, need_scale, need_bias, need_res = ctx.needs_input_grad[:4]
        dx = dscale = dbias = dres = None
        if need_x or need_scale or need_bias:
            dx, sum_dy, sum_dy_xhat = instance_backward(grad, x, mean, rstd, scale, bias, ctx.activation)
            if need_x and x.shape[0] != dx.shape[0]:  # x broadcast over K styles
                dx = dx.sum(0, keepdim=True)
            dx = dx if need_x else None
            dscale = sum_dy_xhat.to(scale.dtype) if need_scale else None
            dbias = sum_dy.to(bias.dtype) if need_bias else None
        if need_res:
            res_batch, res_dtype = ctx.residual_meta
            dres = grad if res_batch == grad.shape[0] else grad.sum(0, keepdim=True)
            dres = dres.to(res_dtype)
        return dx, dscale, dbias, dres, None, None


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
        if needs_autograd(x, scale, bias, residual):
            return AdaINFunction.apply(x, scale, bias, residual, activation, eps)
        return instance_forward(x, scale, bias, residual, activation, eps)[0]
    return adain_ref(x, scale, bias, activation, residual, eps)


def adain_ref(
    x: torch.Tensor,  # (B or 1, C, H, W)
    scale: torch.Tensor,  # (B, C) per-sample "std" from the style MLP
    bias: torch.Tensor,  # (B, C) per-sample "mean" from the style MLP
    activation: str = "none",
    residual: Optional[torch.Tensor] = None,  # (B or 1, C, H, W)
    eps: float = 1e-5,
) -> torch.Tensor:  # (B, C, H, W)
    """The reference: instance norm, then a per-sample Mul/Add (exports as InstanceNormalization + Mul + Add)."""
    dtype, acc = x.dtype, statistics_dtype(x)
    normalized = instance_normalize_ref(x.to(acc), eps)
    y = normalized * scale.to(acc)[:, :, None, None] + bias.to(acc)[:, :, None, None]
    y = apply_activation_ref(y, activation)
    if residual is not None:
        y = y + residual.to(acc)
    return y.to(dtype)


def instance_normalize_ref(x: torch.Tensor, eps: float) -> torch.Tensor:  # (B, C, H, W) -> same
    """(x - mu) / sqrt(var + eps) per (b, c); a single spatial element normalizes to 0.

    F.instance_norm (what exports see: ONNX InstanceNormalization) returns NCHW whatever its
    input, so in a channels_last network every norm would cost two layout copies (to NCHW, and
    back at the next convolution). Channels_last inputs on the CPU are therefore normalized
    with the same math in their own layout, except under tracing. (On CUDA the Triton kernels
    serve channels_last; this path is not measured there.)"""
    if x.shape[2] * x.shape[3] == 1:  # F.instance_norm refuses this case; the math gives 0
        return x * 0.0
    if x.device.type == "cpu" and is_channels_last(x) and not tracing():
        centered = x - x.mean((2, 3), keepdim=True)  # two plain reductions: var_mean is slow along strided H, W
        return centered * torch.rsqrt((centered * centered).mean((2, 3), keepdim=True) + eps)
    return F.instance_norm(x, eps=eps)
