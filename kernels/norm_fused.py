"""Single-pass instance normalization for short rows (a row is one (b, c) plane of H*W elements).

When a tile of whole rows fits in registers, one program reads its rows once, forms their
statistics in fp32 and writes

    y = act(scale[b,c] * (x - mean[b,c]) * rstd[b,c] + bias[b,c]) (+ residual)

(forward), or dx and the row sums of dy and dy * xhat (backward). Longer rows take the split
reduction (``norm_split``) and the elementwise passes (``norm_elementwise``).

The tile follows from row length and layout: channels_last tiles are wide in C, so the loads
coalesce along the contiguous channel axis. Its warp count and how many programs share its
rows are autotuned on the GPU per (C, H*W, layout); in Triton's CPU interpreter, or with
MUNIT_FAST_AUTOTUNE=0, each kernel runs one configuration untimed.
"""
from __future__ import annotations

import functools
from typing import List, Optional, Tuple

import torch

from .utils import (
    TUNING_KEY,
    WARP_CHOICES,
    activation_code,
    autotuning,
    cdiv,
    empty_like_layout,
    empty_statistics,
    is_channels_last,
    next_power_of_2,
    per_row_view,
    rows_view,
    triton_interpreting,
)

try:
    import triton
    import triton.language as tl

    from .utils import activation_grad, apply_activation
except ImportError:  # CPU, Jetson or export installs: the reference path runs instead
    triton = None

# Largest register tile (elements) for the single-pass kernels; longer rows take the split path.
MAX_FUSED_TILE = 8192
# Channels per program in single-pass channels_last tiles (coalesced loads along C).
FUSED_CHANNELS_LAST_C = 16
# The single-pass tile's rows are split over this many programs (autotuned; 1 first).
ROW_SPLITS = (1, 2, 4)


def _fused_configs() -> List["triton.Config"]:
    """Warps x how many programs share the host's tile rows (ROW_SPLIT): one row per program
    gives short-row layers with few rows enough programs to fill the GPU. Not autotuning, the
    pruning keeps one: ROW_SPLIT 1 (compiled), or 2 in the interpreter, so tests cover both."""
    splits = sorted(ROW_SPLITS, key=lambda split: split != 2) if triton_interpreting() else ROW_SPLITS
    return [triton.Config({"ROW_SPLIT": split}, num_warps=warps) for split in splits for warps in WARP_CHOICES]


def _prune_row_splits(configs, named_args, **kwargs):
    """The row splits that leave at least MIN_ROWS rows per program (channels_last coalesces
    along C); only the first of them when not autotuning."""
    rows = kwargs["BLOCK_C"]
    kept = [cfg for cfg in configs if rows // cfg.kwargs["ROW_SPLIT"] >= kwargs["MIN_ROWS"]]
    return kept if autotuning() else kept[:1]


if triton is not None:

    @triton.autotune(configs=_fused_configs(), key=TUNING_KEY,
                     prune_configs_by={"early_config_prune": _prune_row_splits})
    @triton.jit
    def _fused_forward_kernel(
        x_ptr, sxb, sxc, sxhw,  # (B or 1, C, HW), any float dtype
        scale_ptr, bias_ptr, sab, sac,  # (B, C) each; read only when HAS_AFFINE
        res_ptr, srb, src, srhw,  # (B or 1, C, HW); read only when HAS_RESIDUAL
        y_ptr, syb, syc, syhw,  # (B, C, HW), x's dtype
        mean_ptr, rstd_ptr,  # (B, C) fp32 contiguous, written for the backward pass
        C, HW, eps,
        HAS_AFFINE: tl.constexpr, HAS_RESIDUAL: tl.constexpr, ACT: tl.constexpr,
        BLOCK_C: tl.constexpr, BLOCK_HW: tl.constexpr,  # the host's tile: BLOCK_C rows of BLOCK_HW
        MIN_ROWS: tl.constexpr,  # read by the autotuner's pruning only
        ROW_SPLIT: tl.constexpr,  # the autotuner's choice: the tile's rows go to this many programs
    ):
        ROWS: tl.constexpr = BLOCK_C // ROW_SPLIT  # rows of this program's tile
        pid = tl.program_id(0)
        n_cblocks = tl.cdiv(C, ROWS)
        b = (pid // n_cblocks).to(tl.int64)
        c = (pid % n_cblocks) * ROWS + tl.arange(0, ROWS)
        hw = tl.arange(0, BLOCK_HW).to(tl.int64)
        c_mask = c < C
        mask = c_mask[:, None] & (hw < HW)[None, :]
        c64 = c.to(tl.int64)
        # Every load is issued before the reductions, so the residual's and the parameters'
        # memory latency overlaps the statistics.
        x = tl.load(x_ptr + b * sxb + c64[:, None] * sxc + hw[None, :] * sxhw, mask=mask, other=0.0)
        if HAS_RESIDUAL:
            r = tl.load(res_ptr + b * srb + c64[:, None] * src + hw[None, :] * srhw, mask=mask, other=0.0)
        if HAS_AFFINE:
            scale = tl.load(scale_ptr + b * sab + c64 * sac, mask=c_mask, other=0.0).to(tl.float32)
            bias = tl.load(bias_ptr + b * sab + c64 * sac, mask=c_mask, other=0.0).to(tl.float32)
        x = x.to(tl.float32)
        mean = tl.sum(x, axis=1) / HW
        centered = tl.where(mask, x - mean[:, None], 0.0)
        rstd = 1.0 / tl.sqrt(tl.sum(centered * centered, axis=1) / HW + eps)
        y = centered * rstd[:, None]
        if HAS_AFFINE:
            y = y * scale[:, None] + bias[:, None]
        y = apply_activation(y, ACT)
        if HAS_RESIDUAL:
            y += r.to(tl.float32)
        tl.store(y_ptr + b * syb + c64[:, None] * syc + hw[None, :] * syhw, y.to(y_ptr.dtype.element_ty), mask=mask)
        tl.store(mean_ptr + b * C + c64, mean, mask=c_mask)
        tl.store(rstd_ptr + b * C + c64, rstd, mask=c_mask)

    @triton.autotune(configs=_fused_configs(), key=TUNING_KEY,
                     prune_configs_by={"early_config_prune": _prune_row_splits})
    @triton.jit
    def _fused_backward_kernel(
        x_ptr, sxb, sxc, sxhw,  # (B or 1, C, HW)
        g_ptr, sgb, sgc, sghw,  # (B, C, HW): gradient of y
        mean_ptr, rstd_ptr, smb, smc,  # (B, C) fp32 each
        scale_ptr, bias_ptr, sab, sac,  # (B, C) each; read only when HAS_AFFINE
        dx_ptr, sdb, sdc, sdhw,  # (B, C, HW)
        sum_dy_ptr, sum_dy_xhat_ptr,  # (B, C) fp32 contiguous: grad of bias and of scale
        C, HW,
        HAS_AFFINE: tl.constexpr, ACT: tl.constexpr,
        BLOCK_C: tl.constexpr, BLOCK_HW: tl.constexpr, MIN_ROWS: tl.constexpr, ROW_SPLIT: tl.constexpr,
    ):
        ROWS: tl.constexpr = BLOCK_C // ROW_SPLIT  # rows of this program's tile
        pid = tl.program_id(0)
        n_cblocks = tl.cdiv(C, ROWS)
        b = (pid // n_cblocks).to(tl.int64)
        c = (pid % n_cblocks) * ROWS + tl.arange(0, ROWS)
        hw = tl.arange(0, BLOCK_HW).to(tl.int64)
        c_mask = c < C
        mask = c_mask[:, None] & (hw < HW)[None, :]
        c64 = c.to(tl.int64)
        x = tl.load(x_ptr + b * sxb + c64[:, None] * sxc + hw[None, :] * sxhw, mask=mask, other=0.0)
        g = tl.load(g_ptr + b * sgb + c64[:, None] * sgc + hw[None, :] * sghw, mask=mask, other=0.0)
        mean = tl.load(mean_ptr + b * smb + c64 * smc, mask=c_mask, other=0.0)
        rstd = tl.load(rstd_ptr + b * smb + c64 * smc, mask=c_mask, other=0.0)
        xhat = tl.where(mask, (x.to(tl.float32) - mean[:, None]) * rstd[:, None], 0.0)
        if HAS_AFFINE:
            scale = tl.load(scale_ptr + b * sab + c64 * sac, mask=c_mask, other=0.0).to(tl.float32)
            bias = tl.load(bias_ptr + b * sab + c64 * sac, mask=c_mask, other=0.0).to(tl.float32)
            y_pre = xhat * scale[:, None] + bias[:, None]
        else:
            scale = tl.full([ROWS], 1.0, tl.float32)
            y_pre = xhat
        dy = tl.where(mask, activation_grad(g.to(tl.float32), y_pre, ACT), 0.0)
        sum_dy = tl.sum(dy, axis=1)
        sum_dy_xhat = tl.sum(dy * xhat, axis=1)
        alpha = rstd * scale
        dx = alpha[:, None] * (dy - (sum_dy / HW)[:, None] - xhat * (sum_dy_xhat / HW)[:, None])
        tl.store(dx_ptr + b * sdb + c64[:, None] * sdc + hw[None, :] * sdhw, dx.to(dx_ptr.dtype.element_ty), mask=mask)
        tl.store(sum_dy_ptr + b * C + c64, sum_dy, mask=c_mask)
        tl.store(sum_dy_xhat_ptr + b * C + c64, sum_dy_xhat, mask=c_mask)


@functools.lru_cache(maxsize=1024)
def _fused_tile(c: int, hw: int, channels_last: bool, max_tile: int, min_channels_last_c: int):
    block_hw = next_power_of_2(hw)
    min_c = min(min_channels_last_c, next_power_of_2(c)) if channels_last else 1
    if min_c * block_hw > max_tile:
        return None
    return max(min_c, min(next_power_of_2(c), max_tile // block_hw)), block_hw, min_c


def _fused_grid(batch: int, c: int, rows: int):
    """Launch grid of the single-pass kernels for the row split the autotuner picks."""
    return lambda meta: (batch * cdiv(c, rows // meta["ROW_SPLIT"]),)


def fused_tile(x: torch.Tensor) -> Optional[Tuple[int, int, int]]:
    """(BLOCK_C, BLOCK_HW, MIN_ROWS) of the single-pass kernels for x's rows, or None for the
    split path: the largest tile that fits in registers, and the fewest rows a program may take
    when the autotuner splits it (channels_last needs a span of channels to coalesce)."""
    return _fused_tile(x.shape[1], x.shape[2] * x.shape[3], is_channels_last(x), MAX_FUSED_TILE, FUSED_CHANNELS_LAST_C)


def fused_forward(
    x: torch.Tensor,  # (B or 1, C, H, W)
    scale: Optional[torch.Tensor],  # (B, C) or None
    bias: Optional[torch.Tensor],  # (B, C) or None
    residual: Optional[torch.Tensor],  # (B or 1, C, H, W) or None
    activation: str, eps: float, batch: int, tile: Tuple[int, int, int],
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # y (batch, C, H, W), mean, rstd (batch, C) fp32
    """Instance statistics and the normalized output in one pass over short rows."""
    c, hw = x.shape[1], x.shape[2] * x.shape[3]
    y = empty_like_layout(x, batch, x.dtype)
    mean, rstd = empty_statistics(batch, c, x.device)
    block_c, block_hw, min_rows = tile
    _fused_forward_kernel[_fused_grid(batch, c, block_c)](
        *rows_view(x), *per_row_view(scale, bias, stand_in=x), *rows_view(residual, stand_in=x), *rows_view(y),
        mean, rstd, c, hw, eps,
        HAS_AFFINE=scale is not None, HAS_RESIDUAL=residual is not None, ACT=activation_code(activation),
        BLOCK_C=block_c, BLOCK_HW=block_hw, MIN_ROWS=min_rows,
    )
    return y, mean, rstd


def fused_backward(
    grad: torch.Tensor,  # (B, C, H, W)
    x: torch.Tensor,  # (B or 1, C, H, W)
    mean: torch.Tensor, rstd: torch.Tensor,  # (B, C) fp32, any strides
    scale: Optional[torch.Tensor], bias: Optional[torch.Tensor],  # (B, C) or None
    activation: str, tile: Tuple[int, int, int],
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # dx (B, C, H, W), sum(dy), sum(dy * xhat) (B, C)
    """Instance-norm backward in one pass over short rows; dx is per output sample."""
    batch, c, hw = grad.shape[0], x.shape[1], x.shape[2] * x.shape[3]
    dx = empty_like_layout(x, batch, x.dtype)
    sum_dy, sum_dy_xhat = empty_statistics(batch, c, x.device)
    block_c, block_hw, min_rows = tile
    _fused_backward_kernel[_fused_grid(batch, c, block_c)](
        *rows_view(x), *rows_view(grad), *per_row_view(mean, rstd), *per_row_view(scale, bias, stand_in=x),
        *rows_view(dx), sum_dy, sum_dy_xhat, c, hw,
        HAS_AFFINE=scale is not None, ACT=activation_code(activation),
        BLOCK_C=block_c, BLOCK_HW=block_hw, MIN_ROWS=min_rows,
    )
    return dx, sum_dy, sum_dy_xhat
