"""Elementwise passes of the normalizations over rows of any length, with known statistics.

Forward: y = act(scale[b,c] * (x - mean[b,c]) * rstd[b,c] + bias[b,c]) (+ residual); backward:
dx = coef[0] * dy + coef[1] * xhat + coef[2] per row. After the split reduction of
``norm_split`` the passes add a row's partial sums up themselves (``FROM_SUMS``: the instance
statistics, or the dx coefficients), so long rows take two launches; rows cut into more than
MAX_SPLITS_FROM_SUMS chunks, and LayerNorm, have theirs finalized by a small launch first. The
passes walk the rows in reverse, so their second read of x starts with what the reduction
left in L2.

The tile is autotuned on the GPU per (C, H*W, layout) among shapes for each layout (wide in C
for channels_last, along H*W for NCHW); in Triton's CPU interpreter, or with
MUNIT_FAST_AUTOTUNE=0, each kernel runs one configuration untimed.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import torch

from .norm_split import grad_terms_from_sums, statistics_from_sums
from .utils import (
    TUNING_KEY,
    activation_code,
    cdiv,
    empty_like_layout,
    empty_statistics,
    is_channels_last,
    per_row_view,
    rows_view,
    triton_interpreting,
    tuning_configs,
)

try:
    import triton
    import triton.language as tl

    from .utils import activation_grad, apply_activation
except ImportError:  # CPU, Jetson or export installs: the reference path runs instead
    triton = None

# Chunks per row up to which the elementwise pass adds the partial sums up itself. Every one of
# its programs re-reads all of its rows' sums, so rows cut into more chunks (few long rows, as in
# channels_last, take hundreds) have their statistics formed by one small launch instead.
MAX_SPLITS_FROM_SUMS = 8
# Elementwise-pass tiles (BLOCK_C, BLOCK_HW, num_warps) the autotuner chooses from, by layout.
ELEMENTWISE_TILES_NCHW = ((1, 1024, 4), (1, 2048, 4), (1, 4096, 8), (2, 2048, 8))
ELEMENTWISE_TILES_CHANNELS_LAST = ((64, 64, 4), (32, 128, 4), (128, 32, 4), (64, 128, 8))
INTERPRETER_TILE_NCHW, INTERPRETER_TILE_CHANNELS_LAST = (2, 64, 4), (4, 32, 4)


def _tile_configs(tiles, interpreter_tile) -> List["triton.Config"]:
    """The interpreter runs ``interpreter_tile``: small, so test rows span several blocks."""
    tiles = [interpreter_tile] if triton_interpreting() else tiles
    return tuning_configs([({"BLOCK_C": c, "BLOCK_HW": hw}, warps) for c, hw, warps in tiles])


if triton is not None:

    @triton.jit
    def _reversed_program_id():
        """The elementwise passes walk the rows in the reverse of the reduction's order: the rows
        it summed last are the ones still in L2, so they are read again from there first."""
        return tl.num_programs(0) - 1 - tl.program_id(0)

    @triton.jit
    def _instance_statistics(
        x_ptr, s1_ptr, s2_ptr, b, c64, c_mask, C, HW, n_splits, stats_batch, eps, sxb, sxc,
    ):
        """Mean and rstd of BLOCK_C instance rows from the split reduction's partial sums, taken
        about each row's first element; a stats batch of 1 serves every sample (expanded x)."""
        bs = tl.minimum(b, stats_batch - 1)
        t1 = tl.load(s1_ptr + bs * C + c64, mask=c_mask, other=0.0)
        t2 = tl.load(s2_ptr + bs * C + c64, mask=c_mask, other=0.0)
        for split in range(1, n_splits):
            t1 += tl.load(s1_ptr + (split * stats_batch + bs) * C + c64, mask=c_mask, other=0.0)
            t2 += tl.load(s2_ptr + (split * stats_batch + bs) * C + c64, mask=c_mask, other=0.0)
        shift = tl.load(x_ptr + b * sxb + c64 * sxc, mask=c_mask, other=0.0).to(tl.float32)
        shifted_mean = t1 / HW
        var = tl.maximum(t2 / HW - shifted_mean * shifted_mean, 0.0)
        return shift + shifted_mean, 1.0 / tl.sqrt(var + eps)

    @triton.jit
    def _normalize_kernel(
        x_ptr, sxb, sxc, sxhw,  # (B or 1, C, HW)
        mean_ptr, rstd_ptr, smb, smc,  # (B, C) fp32 each: read, or written when FROM_SUMS
        s1_ptr, s2_ptr,  # (SPLITS, stats_batch, C) fp32 partial sums; read only when FROM_SUMS
        scale_ptr, bias_ptr, sab, sac,  # (B, C) each; read only when HAS_AFFINE
        res_ptr, srb, src, srhw,  # (B or 1, C, HW); read only when HAS_RESIDUAL
        y_ptr, syb, syc, syhw,  # (B, C, HW)
        C, HW, n_splits, stats_batch, eps,
        FROM_SUMS: tl.constexpr,  # instance statistics formed here from the partial sums
        HAS_AFFINE: tl.constexpr, HAS_RESIDUAL: tl.constexpr, ACT: tl.constexpr,
        BLOCK_C: tl.constexpr, BLOCK_HW: tl.constexpr,
    ):
        pid = _reversed_program_id()
        n_cblocks = tl.cdiv(C, BLOCK_C)
        n_hwblocks = tl.cdiv(HW, BLOCK_HW)
        row = pid // n_hwblocks
        hw_block = pid % n_hwblocks
        b = (row // n_cblocks).to(tl.int64)
        c = (row % n_cblocks) * BLOCK_C + tl.arange(0, BLOCK_C)
        hw = (hw_block * BLOCK_HW + tl.arange(0, BLOCK_HW)).to(tl.int64)
        c_mask = c < C
        mask = c_mask[:, None] & (hw < HW)[None, :]
        c64 = c.to(tl.int64)
        x = tl.load(x_ptr + b * sxb + c64[:, None] * sxc + hw[None, :] * sxhw, mask=mask, other=0.0)
        if FROM_SUMS:
            mean, rstd = _instance_statistics(x_ptr, s1_ptr, s2_ptr, b, c64, c_mask, C, HW, n_splits,
                                              stats_batch, eps, sxb, sxc)
            if hw_block == 0:  # one program per row keeps the statistics
                tl.store(mean_ptr + b * smb + c64 * smc, mean, mask=c_mask)
                tl.store(rstd_ptr + b * smb + c64 * smc, rstd, mask=c_mask)
        else:
            mean = tl.load(mean_ptr + b * smb + c64 * smc, mask=c_mask, other=0.0)
            rstd = tl.load(rstd_ptr + b * smb + c64 * smc, mask=c_mask, other=0.0)
        y = (x.to(tl.float32) - mean[:, None]) * rstd[:, None]
        if HAS_AFFINE:
            scale = tl.load(scale_ptr + b * sab + c64 * sac, mask=c_mask, other=0.0).to(tl.float32)
            bias = tl.load(bias_ptr + b * sab + c64 * sac, mask=c_mask, other=0.0).to(tl.float32)
            y = y * scale[:, None] + bias[:, None]
        y = apply_activation(y, ACT)
        if HAS_RESIDUAL:
            r = tl.load(res_ptr + b * srb + c64[:, None] * src + hw[None, :] * srhw, mask=mask, other=0.0)
            y += r.to(tl.float32)
        tl.store(y_ptr + b * syb + c64[:, None] * syc + hw[None, :] * syhw, y.to(y_ptr.dtype.element_ty), mask=mask)

    @triton.jit
    def _normalize_backward_kernel(
        x_ptr, sxb, sxc, sxhw,  # (B or 1, C, HW)
        g_ptr, sgb, sgc, sghw,  # (B, C, HW): gradient of y
        mean_ptr, rstd_ptr, smb, smc,  # (B, C) fp32 each
        scale_ptr, bias_ptr, sab, sac,  # (B, C) each; read only when HAS_AFFINE
        coef_ptr,  # (3, B, C) fp32 contiguous: dx = coef[0] * dy + coef[1] * xhat + coef[2]; unless FROM_SUMS
        s1_ptr, s2_ptr,  # (SPLITS, B, C) fp32 partial sums of dy and dy * xhat; read only when FROM_SUMS
        sum_dy_ptr, sum_dy_xhat_ptr,  # out (B, C) fp32 row sums (grads of bias and scale); FROM_SUMS only
        dx_ptr, sdb, sdc, sdhw,  # (B, C, HW)
        B, C, HW, n_splits,
        FROM_SUMS: tl.constexpr,  # instance-norm coefficients formed here from the partial sums
        HAS_AFFINE: tl.constexpr, ACT: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_HW: tl.constexpr,
    ):
        pid = _reversed_program_id()
        n_cblocks = tl.cdiv(C, BLOCK_C)
        n_hwblocks = tl.cdiv(HW, BLOCK_HW)
        row = pid // n_hwblocks
        hw_block = pid % n_hwblocks
        b = (row // n_cblocks).to(tl.int64)
        c = (row % n_cblocks) * BLOCK_C + tl.arange(0, BLOCK_C)
        hw = (hw_block * BLOCK_HW + tl.arange(0, BLOCK_HW)).to(tl.int64)
        c_mask = c < C
        mask = c_mask[:, None] & (hw < HW)[None, :]
        c64 = c.to(tl.int64)
        x = tl.load(x_ptr + b * sxb + c64[:, None] * sxc + hw[None, :] * sxhw, mask=mask, other=0.0)
        g = tl.load(g_ptr + b * sgb + c64[:, None] * sgc + hw[None, :] * sghw, mask=mask, other=0.0)
        mean = tl.load(mean_ptr + b * smb + c64 * smc, mask=c_mask, other=0.0)
        rstd = tl.load(rstd_ptr + b * smb + c64 * smc, mask=c_mask, other=0.0)
        xhat = (x.to(tl.float32) - mean[:, None]) * rstd[:, None]
        if HAS_AFFINE:
            scale = tl.load(scale_ptr + b * sab + c64 * sac, mask=c_mask, other=0.0).to(tl.float32)
            bias = tl.load(bias_ptr + b * sab + c64 * sac, mask=c_mask, other=0.0).to(tl.float32)
            y_pre = xhat * scale[:, None] + bias[:, None]
        else:
            y_pre = xhat
        dy = activation_grad(g.to(tl.float32), y_pre, ACT)
        k = b * C + c64
        if FROM_SUMS:  # dx = rstd * scale * (dy - mean(dy) - xhat * mean(dy * xhat))
            p1 = tl.load(s1_ptr + k, mask=c_mask, other=0.0)
            p2 = tl.load(s2_ptr + k, mask=c_mask, other=0.0)
            for split in range(1, n_splits):
                p1 += tl.load(s1_ptr + split * B * C + k, mask=c_mask, other=0.0)
                p2 += tl.load(s2_ptr + split * B * C + k, mask=c_mask, other=0.0)
            if hw_block == 0:  # one program per row keeps the row sums
                tl.store(sum_dy_ptr + k, p1, mask=c_mask)
                tl.store(sum_dy_xhat_ptr + k, p2, mask=c_mask)
            c_dy = rstd
            if HAS_AFFINE:
                c_dy = c_dy * scale
            c_xhat = -c_dy * p2 / HW
            c_one = -c_dy * p1 / HW
        else:
            c_dy = tl.load(coef_ptr + k, mask=c_mask, other=0.0)
            c_xhat = tl.load(coef_ptr + B * C + k, mask=c_mask, other=0.0)
            c_one = tl.load(coef_ptr + 2 * B * C + k, mask=c_mask, other=0.0)
        dx = c_dy[:, None] * dy + c_xhat[:, None] * xhat + c_one[:, None]
        tl.store(dx_ptr + b * sdb + c64[:, None] * sdc + hw[None, :] * sdhw, dx.to(dx_ptr.dtype.element_ty), mask=mask)

    # The elementwise passes, autotuned over tiles shaped for each layout.
    _normalize_nchw = triton.autotune(
        _tile_configs(ELEMENTWISE_TILES_NCHW, INTERPRETER_TILE_NCHW), key=TUNING_KEY)(_normalize_kernel)
    _CHANNELS_LAST_TILES = _tile_configs(ELEMENTWISE_TILES_CHANNELS_LAST, INTERPRETER_TILE_CHANNELS_LAST)
    _normalize_channels_last = triton.autotune(_CHANNELS_LAST_TILES, key=TUNING_KEY)(_normalize_kernel)
    _normalize_backward_nchw = triton.autotune(
        _tile_configs(ELEMENTWISE_TILES_NCHW, INTERPRETER_TILE_NCHW), key=TUNING_KEY)(_normalize_backward_kernel)
    _normalize_backward_channels_last = triton.autotune(_CHANNELS_LAST_TILES, key=TUNING_KEY)(
        _normalize_backward_kernel)


def _elementwise_grid(batch: int, c: int, hw: int):
    """Launch grid of the elementwise passes for the tile the autotuner picks."""
    return lambda meta: (batch * cdiv(c, meta["BLOCK_C"]) * cdiv(hw, meta["BLOCK_HW"]),)


def _launch_normalize(
    x: torch.Tensor,  # (B or 1, C, H, W)
    mean: torch.Tensor, rstd: torch.Tensor,  # (B, C) fp32: read, or written when sums are given
    sums: Optional[Tuple[torch.Tensor, torch.Tensor]],  # (SPLITS, B or 1, C) fp32, or None
    eps: float,
    scale: Optional[torch.Tensor], bias: Optional[torch.Tensor],  # (B, C) or None
    residual: Optional[torch.Tensor],  # (B or 1, C, H, W) or None
    activation: str, batch: int,
) -> torch.Tensor:  # (batch, C, H, W)
    c, hw = x.shape[1], x.shape[2] * x.shape[3]
    y = empty_like_layout(x, batch, x.dtype)
    s1, s2 = sums if sums is not None else (mean, mean)
    kernel = _normalize_channels_last if is_channels_last(x) else _normalize_nchw
    kernel[_elementwise_grid(batch, c, hw)](
        *rows_view(x), *per_row_view(mean, rstd), s1, s2, *per_row_view(scale, bias, stand_in=x),
        *rows_view(residual, stand_in=x), *rows_view(y),
        c, hw, s1.shape[0] if sums is not None else 0, s1.shape[1] if sums is not None else 1, eps,
        FROM_SUMS=sums is not None,
        HAS_AFFINE=scale is not None, HAS_RESIDUAL=residual is not None, ACT=activation_code(activation),
    )
    return y


def _launch_normalize_backward(
    grad: torch.Tensor,  # (B, C, H, W)
    x: torch.Tensor,  # (B or 1, C, H, W)
    mean: torch.Tensor, rstd: torch.Tensor,  # (B, C) fp32
    scale: Optional[torch.Tensor], bias: Optional[torch.Tensor],  # (B, C) or None
    coef: Optional[torch.Tensor],  # (3, B, C) fp32, or None when sums are given
    sums: Optional[Tuple[torch.Tensor, torch.Tensor]],  # (SPLITS, B, C) fp32, or None
    sum_dy: Optional[torch.Tensor], sum_dy_xhat: Optional[torch.Tensor],  # out (B, C) fp32 with sums, else None
    activation: str,
) -> torch.Tensor:  # dx (B, C, H, W)
    batch, c, hw = grad.shape[0], x.shape[1], x.shape[2] * x.shape[3]
    dx = empty_like_layout(x, batch, x.dtype)
    s1, s2 = sums if sums is not None else (rstd, rstd)
    kernel = _normalize_backward_channels_last if is_channels_last(x) else _normalize_backward_nchw
    kernel[_elementwise_grid(batch, c, hw)](
        *rows_view(x), *rows_view(grad), *per_row_view(mean, rstd), *per_row_view(scale, bias, stand_in=x),
        coef if coef is not None else rstd, s1, s2,
        sum_dy if sum_dy is not None else rstd, sum_dy_xhat if sum_dy_xhat is not None else rstd,
        *rows_view(dx), batch, c, hw, s1.shape[0] if sums is not None else 0,
        FROM_SUMS=sums is not None, HAS_AFFINE=scale is not None, ACT=activation_code(activation),
    )
    return dx


def normalize(
    x: torch.Tensor,  # (B or 1, C, H, W)
    mean: torch.Tensor, rstd: torch.Tensor,  # (B, C) fp32, any strides
    scale: Optional[torch.Tensor], bias: Optional[torch.Tensor],  # (B, C) or None
    residual: Optional[torch.Tensor],  # (B or 1, C, H, W) or None
    activation: str, batch: int,
) -> torch.Tensor:  # (batch, C, H, W), x's dtype and memory format
    """y = act(scale * (x - mean) * rstd + bias) (+ residual), elementwise over any row length."""
    return _launch_normalize(x, mean, rstd, None, 0.0, scale, bias, residual, activation, batch)


def normalize_from_sums(
    x: torch.Tensor,  # (B or 1, C, H, W)
    sums: Tuple[torch.Tensor, torch.Tensor],  # (SPLITS, B or 1, C) fp32 from partial_sums(per_sample=False)
    eps: float,
    scale: Optional[torch.Tensor], bias: Optional[torch.Tensor],  # (B, C) or None
    residual: Optional[torch.Tensor],  # (B or 1, C, H, W) or None
    activation: str, batch: int,
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # y (batch, C, H, W); mean, rstd (batch, C) fp32
    """The elementwise pass of instance norm over long rows, forming each row's statistics from
    the partial sums itself (no separate statistics launch, up to MAX_SPLITS_FROM_SUMS chunks per
    row); statistics of a batch-1 ``sums`` serve every sample."""
    s1 = sums[0]
    if s1.shape[0] > MAX_SPLITS_FROM_SUMS:
        stats_mean, stats_rstd, _ = statistics_from_sums(x[:s1.shape[1]], sums, eps, per_sample=False)
        mean, rstd = stats_mean.expand(batch, -1), stats_rstd.expand(batch, -1)
        return normalize(x, mean, rstd, scale, bias, residual, activation, batch), mean, rstd
    mean, rstd = empty_statistics(batch, x.shape[1], x.device)
    y = _launch_normalize(x, mean, rstd, sums, eps, scale, bias, residual, activation, batch)
    return y, mean, rstd


def normalize_backward(
    grad: torch.Tensor,  # (B, C, H, W)
    x: torch.Tensor,  # (B or 1, C, H, W)
    mean: torch.Tensor, rstd: torch.Tensor,  # (B, C) fp32, any strides
    scale: Optional[torch.Tensor], bias: Optional[torch.Tensor],  # (B, C) or None
    coef: torch.Tensor,  # (3, B, C) fp32 contiguous: dx = coef[0] * dy + coef[1] * xhat + coef[2]
    activation: str,
) -> torch.Tensor:  # dx (B, C, H, W), x's dtype and memory format, per output sample
    return _launch_normalize_backward(grad, x, mean, rstd, scale, bias, coef, None, None, None, activation)


def normalize_backward_from_sums(
    grad: torch.Tensor,  # (B, C, H, W)
    x: torch.Tensor,  # (B or 1, C, H, W)
    mean: torch.Tensor, rstd: torch.Tensor,  # (B, C) fp32, any strides
    scale: Optional[torch.Tensor], bias: Optional[torch.Tensor],  # (B, C) or None
    sums: Tuple[torch.Tensor, torch.Tensor],  # (SPLITS, B, C) fp32 from partial_grad_sums
    activation: str,
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # dx (B, C, H, W); sum(dy), sum(dy * xhat) (B, C)
    """Instance-norm backward's elementwise pass over long rows, forming the coefficients from
    the partial sums itself (no separate launch, up to MAX_SPLITS_FROM_SUMS chunks per row); dx
    is per output sample."""
    if sums[0].shape[0] > MAX_SPLITS_FROM_SUMS:
        coef, sum_dy, sum_dy_xhat = grad_terms_from_sums(sums, rstd, None, scale, x.shape[2] * x.shape[3])
        return normalize_backward(grad, x, mean, rstd, scale, bias, coef, activation), sum_dy, sum_dy_xhat
    sum_dy, sum_dy_xhat = empty_statistics(grad.shape[0], x.shape[1], x.device)
    dx = _launch_normalize_backward(grad, x, mean, rstd, scale, bias, None, sums, sum_dy, sum_dy_xhat, activation)
    return dx, sum_dy, sum_dy_xhat
