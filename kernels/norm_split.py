"""Split reduction over long rows, and the small kernels that finalize its partial sums.

Rows too long for one register tile (``norm_fused``) are summed in chunks: each program of a
``_partial_*`` kernel sums one chunk of BLOCK_C rows, forward (x about a shift) or backward
(dy and dy * xhat). The elementwise pass (``norm_elementwise``) adds a row's few chunks up
itself; rows cut into many chunks, and MUNIT's LayerNorm, whose statistics span a whole sample,
have theirs combined by a ``_finalize_*`` kernel between the two: a small launch over (B, C)
values, no host-side arithmetic.

The split reduction's warp count is autotuned on the GPU per (C, H*W, layout); in Triton's CPU
interpreter, or with MUNIT_FAST_AUTOTUNE=0, each kernel runs one configuration untimed.
"""
from __future__ import annotations

import functools
from typing import List, Optional, Tuple

import torch

from .utils import (
    TUNING_KEY,
    WARP_CHOICES,
    activation_code,
    cdiv,
    empty_statistics,
    is_channels_last,
    next_power_of_2,
    per_row_view,
    rows_view,
    tuning_configs,
)

try:
    import triton
    import triton.language as tl

    from .utils import activation_grad
except ImportError:  # CPU, Jetson or export installs: the reference path runs instead
    triton = None

# Tile of the split path: (channels, H*W) per program, by layout.
SPLIT_TILE_NCHW = (1, 2048)
SPLIT_TILE_CHANNELS_LAST = (64, 64)
# The split reduction aims at this many programs per streaming multiprocessor.
PROGRAMS_PER_SM = 4
# Rows (or channels) per program when the partial sums are combined into statistics.
FINALIZE_BLOCK = 1024


def _warp_configs() -> List["triton.Config"]:
    return tuning_configs([({}, warps) for warps in WARP_CHOICES])


if triton is not None:

    @triton.autotune(configs=_warp_configs(), key=TUNING_KEY)
    @triton.jit
    def _partial_sums_kernel(
        x_ptr, sxb, sxc, sxhw,  # (B, C, HW)
        s1_ptr, s2_ptr,  # (SPLITS, B, C) fp32 contiguous: sum(x - shift), sum((x - shift)^2) per chunk
        B, C, HW, n_cblocks, n_splits, chunk,
        SHIFT_PER_SAMPLE: tl.constexpr,  # shift = x[b, 0, 0] instead of x[b, c, 0]
        BLOCK_C: tl.constexpr, BLOCK_HW: tl.constexpr,
    ):
        # The sums are taken about a sample of the row (its first element), which keeps
        # E[d^2] - E[d]^2 well conditioned in fp32 when |mean| >> std.
        pid = tl.program_id(0)
        split = pid % n_splits
        row = pid // n_splits
        b = (row // n_cblocks).to(tl.int64)
        c = (row % n_cblocks) * BLOCK_C + tl.arange(0, BLOCK_C)
        c_mask = c < C
        c64 = c.to(tl.int64)
        if SHIFT_PER_SAMPLE:
            shift = tl.zeros([BLOCK_C], dtype=tl.float32) + tl.load(x_ptr + b * sxb).to(tl.float32)
        else:
            shift = tl.load(x_ptr + b * sxb + c64 * sxc, mask=c_mask, other=0.0).to(tl.float32)
        base = x_ptr + b * sxb + c64[:, None] * sxc
        acc1 = tl.zeros([BLOCK_C, BLOCK_HW], dtype=tl.float32)
        acc2 = tl.zeros([BLOCK_C, BLOCK_HW], dtype=tl.float32)
        start = split * chunk
        end = tl.minimum(start + chunk, HW)
        for off in range(start, end, BLOCK_HW):
            hw = (off + tl.arange(0, BLOCK_HW)).to(tl.int64)
            mask = c_mask[:, None] & (hw < end)[None, :]
            x = tl.load(base + hw[None, :] * sxhw, mask=mask, other=0.0).to(tl.float32)
            d = tl.where(mask, x - shift[:, None], 0.0)
            acc1 += d
            acc2 += d * d
        out = split * B * C + b * C + c64
        tl.store(s1_ptr + out, tl.sum(acc1, axis=1), mask=c_mask)
        tl.store(s2_ptr + out, tl.sum(acc2, axis=1), mask=c_mask)

    @triton.jit
    def _finalize_stats_kernel(
        x_ptr, sxb, sxc,  # (B, C, HW): each row's first element is its shift
        s1_ptr, s2_ptr,  # (SPLITS, B, C) fp32 contiguous partial sums from _partial_sums_kernel
        mean_ptr, rstd_ptr,  # out, fp32: (B, C) contiguous, or (B,) when PER_SAMPLE
        std_ptr,  # out (B,) fp32, PER_SAMPLE only: the unbiased std, kept for the backward pass
        B, C, n_splits, n, eps,
        PER_SAMPLE: tl.constexpr, BLOCK: tl.constexpr,
    ):
        if PER_SAMPLE:  # MUNIT LayerNorm: over (C, H*W), unbiased std, eps added to the std
            b = tl.program_id(0).to(tl.int64)
            acc1 = tl.zeros([BLOCK], dtype=tl.float32)
            acc2 = tl.zeros([BLOCK], dtype=tl.float32)
            for c0 in range(0, C, BLOCK):
                c = c0 + tl.arange(0, BLOCK)
                mask = c < C
                for split in range(0, n_splits):
                    acc1 += tl.load(s1_ptr + split * B * C + b * C + c, mask=mask, other=0.0)
                    acc2 += tl.load(s2_ptr + split * B * C + b * C + c, mask=mask, other=0.0)
            t1 = tl.sum(acc1, axis=0)
            shifted_mean = t1 / n
            std = tl.sqrt(tl.maximum(tl.sum(acc2, axis=0) - t1 * shifted_mean, 0.0) / (n - 1))
            tl.store(mean_ptr + b, tl.load(x_ptr + b * sxb).to(tl.float32) + shifted_mean)
            tl.store(rstd_ptr + b, 1.0 / (std + eps))
            tl.store(std_ptr + b, std)
        else:  # instance statistics per (b, c): biased variance, eps added to the variance
            r = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)  # flattened b * C + c
            mask = r < B * C
            t1 = tl.zeros([BLOCK], dtype=tl.float32)
            t2 = tl.zeros([BLOCK], dtype=tl.float32)
            for split in range(0, n_splits):
                t1 += tl.load(s1_ptr + split * B * C + r, mask=mask, other=0.0)
                t2 += tl.load(s2_ptr + split * B * C + r, mask=mask, other=0.0)
            b = (r // C).to(tl.int64)
            c = (r % C).to(tl.int64)
            shift = tl.load(x_ptr + b * sxb + c * sxc, mask=mask, other=0.0).to(tl.float32)
            shifted_mean = t1 / n
            var = tl.maximum(t2 / n - shifted_mean * shifted_mean, 0.0)
            tl.store(mean_ptr + r, shift + shifted_mean, mask=mask)
            tl.store(rstd_ptr + r, 1.0 / tl.sqrt(var + eps), mask=mask)

    @triton.autotune(configs=_warp_configs(), key=TUNING_KEY)
    @triton.jit
    def _partial_grad_sums_kernel(
        x_ptr, sxb, sxc, sxhw,  # (B or 1, C, HW)
        g_ptr, sgb, sgc, sghw,  # (B, C, HW): gradient of y
        mean_ptr, rstd_ptr, smb, smc,  # (B, C) fp32 each
        scale_ptr, bias_ptr, sab, sac,  # (B, C) each; read only when HAS_AFFINE
        s1_ptr, s2_ptr,  # (SPLITS, B, C) fp32 contiguous: sum(dy), sum(dy * xhat) per chunk
        B, C, HW, n_cblocks, n_splits, chunk,
        HAS_AFFINE: tl.constexpr, ACT: tl.constexpr, BLOCK_C: tl.constexpr, BLOCK_HW: tl.constexpr,
    ):
        pid = tl.program_id(0)
        split = pid % n_splits
        row = pid // n_splits
        b = (row // n_cblocks).to(tl.int64)
        c = (row % n_cblocks) * BLOCK_C + tl.arange(0, BLOCK_C)
        c_mask = c < C
        c64 = c.to(tl.int64)
        mean = tl.load(mean_ptr + b * smb + c64 * smc, mask=c_mask, other=0.0)
        rstd = tl.load(rstd_ptr + b * smb + c64 * smc, mask=c_mask, other=0.0)
        if HAS_AFFINE:
            scale = tl.load(scale_ptr + b * sab + c64 * sac, mask=c_mask, other=0.0).to(tl.float32)
            bias = tl.load(bias_ptr + b * sab + c64 * sac, mask=c_mask, other=0.0).to(tl.float32)
        acc1 = tl.zeros([BLOCK_C, BLOCK_HW], dtype=tl.float32)
        acc2 = tl.zeros([BLOCK_C, BLOCK_HW], dtype=tl.float32)
        start = split * chunk
        end = tl.minimum(start + chunk, HW)
        for off in range(start, end, BLOCK_HW):
            hw = (off + tl.arange(0, BLOCK_HW)).to(tl.int64)
            mask = c_mask[:, None] & (hw < end)[None, :]
            x = tl.load(x_ptr + b * sxb + c64[:, None] * sxc + hw[None, :] * sxhw, mask=mask, other=0.0)
            g = tl.load(g_ptr + b * sgb + c64[:, None] * sgc + hw[None, :] * sghw, mask=mask, other=0.0)
            xhat = (x.to(tl.float32) - mean[:, None]) * rstd[:, None]
            if HAS_AFFINE:
                y_pre = xhat * scale[:, None] + bias[:, None]
            else:
                y_pre = xhat
            dy = tl.where(mask, activation_grad(g.to(tl.float32), y_pre, ACT), 0.0)
            acc1 += dy
            acc2 += dy * xhat
        out = split * B * C + b * C + c64
        tl.store(s1_ptr + out, tl.sum(acc1, axis=1), mask=c_mask)
        tl.store(s2_ptr + out, tl.sum(acc2, axis=1), mask=c_mask)

    @triton.jit
    def _finalize_grad_kernel(
        s1_ptr, s2_ptr,  # (SPLITS, B, C) fp32 contiguous partial sums of dy and dy * xhat
        rstd_ptr, smb, smc,  # (B, C) fp32
        std_ptr,  # (B,) fp32, PER_SAMPLE only
        scale_ptr, sab, sac,  # (B, C); read when HAS_AFFINE (always when PER_SAMPLE)
        sum_dy_ptr, sum_dy_xhat_ptr,  # out (B, C) fp32: row sums, i.e. per-sample grads of bias and scale
        coef_ptr,  # out (3, B, C) fp32: dx = coef[0] * dy + coef[1] * xhat + coef[2]
        B, C, n_splits, n,
        PER_SAMPLE: tl.constexpr, HAS_AFFINE: tl.constexpr, BLOCK: tl.constexpr,
    ):
        if PER_SAMPLE:
            # dx = rstd * (dxhat - mean(dxhat)) - xhat * sum(dxhat * xhat) / ((n - 1) * std),
            # dxhat = dy * gamma[c]
            b = tl.program_id(0).to(tl.int64)
            acc_dxhat = tl.zeros([BLOCK], dtype=tl.float32)
            acc_dxhat_xhat = tl.zeros([BLOCK], dtype=tl.float32)
            for c0 in range(0, C, BLOCK):
                c = c0 + tl.arange(0, BLOCK)
                mask = c < C
                p1 = tl.zeros([BLOCK], dtype=tl.float32)
                p2 = tl.zeros([BLOCK], dtype=tl.float32)
                for split in range(0, n_splits):
                    p1 += tl.load(s1_ptr + split * B * C + b * C + c, mask=mask, other=0.0)
                    p2 += tl.load(s2_ptr + split * B * C + b * C + c, mask=mask, other=0.0)
                tl.store(sum_dy_ptr + b * C + c, p1, mask=mask)
                tl.store(sum_dy_xhat_ptr + b * C + c, p2, mask=mask)
                gamma = tl.load(scale_ptr + b * sab + c * sac, mask=mask, other=0.0).to(tl.float32)
                acc_dxhat += gamma * p1
                acc_dxhat_xhat += gamma * p2
            rstd = tl.load(rstd_ptr + b * smb)
            k_xhat = -tl.sum(acc_dxhat_xhat, axis=0) / ((n - 1) * tl.load(std_ptr + b))
            k_one = -rstd * tl.sum(acc_dxhat, axis=0) / n
            for c0 in range(0, C, BLOCK):
                c = c0 + tl.arange(0, BLOCK)
                mask = c < C
                gamma = tl.load(scale_ptr + b * sab + c * sac, mask=mask, other=0.0).to(tl.float32)
                tl.store(coef_ptr + b * C + c, rstd * gamma, mask=mask)
                tl.store(coef_ptr + B * C + b * C + c, tl.zeros([BLOCK], dtype=tl.float32) + k_xhat, mask=mask)
                tl.store(coef_ptr + 2 * B * C + b * C + c, tl.zeros([BLOCK], dtype=tl.float32) + k_one, mask=mask)
        else:
            # dx = rstd * scale * (dy - mean(dy) - xhat * mean(dy * xhat))
            r = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)  # flattened b * C + c
            mask = r < B * C
            p1 = tl.zeros([BLOCK], dtype=tl.float32)
            p2 = tl.zeros([BLOCK], dtype=tl.float32)
            for split in range(0, n_splits):
                p1 += tl.load(s1_ptr + split * B * C + r, mask=mask, other=0.0)
                p2 += tl.load(s2_ptr + split * B * C + r, mask=mask, other=0.0)
            b = (r // C).to(tl.int64)
            c = (r % C).to(tl.int64)
            alpha = tl.load(rstd_ptr + b * smb + c * smc, mask=mask, other=0.0)
            if HAS_AFFINE:
                alpha *= tl.load(scale_ptr + b * sab + c * sac, mask=mask, other=0.0).to(tl.float32)
            tl.store(sum_dy_ptr + r, p1, mask=mask)
            tl.store(sum_dy_xhat_ptr + r, p2, mask=mask)
            tl.store(coef_ptr + r, alpha, mask=mask)
            tl.store(coef_ptr + B * C + r, -alpha * p2 / n, mask=mask)
            tl.store(coef_ptr + 2 * B * C + r, -alpha * p1 / n, mask=mask)


def _split_tile(x: torch.Tensor) -> Tuple[int, int]:
    block_c, block_hw = SPLIT_TILE_CHANNELS_LAST if is_channels_last(x) else SPLIT_TILE_NCHW
    return min(block_c, next_power_of_2(x.shape[1])), min(block_hw, next_power_of_2(x.shape[2] * x.shape[3]))


@functools.lru_cache(maxsize=None)
def _target_programs(device: torch.device) -> int:
    if device.type == "cuda":
        return PROGRAMS_PER_SM * torch.cuda.get_device_properties(device).multi_processor_count
    return 8  # the CPU interpreter: few programs keep it quick


def _splits(device: torch.device, rows: int, hw: int, block_hw: int) -> Tuple[int, int]:
    """(number of chunks per row, chunk length in elements) for the split reduction."""
    max_splits = cdiv(hw, block_hw)
    splits = max(1, min(max_splits, cdiv(_target_programs(device), rows)))
    chunk = cdiv(cdiv(hw, splits), block_hw) * block_hw
    return cdiv(hw, chunk), chunk


def _finalize_launch(batch: int, c: int, per_sample: bool) -> Tuple[int, int]:
    """(grid, BLOCK) of the finalize kernels: a program per sample looping over its channels,
    or programs over the flattened (B, C) values."""
    block = min(FINALIZE_BLOCK, next_power_of_2(c if per_sample else batch * c))
    return (batch if per_sample else cdiv(batch * c, block)), block


def partial_sums(
    x: torch.Tensor,  # (B, C, H, W)
    per_sample: bool,  # LayerNorm: every row of a sample is taken about the sample's first element
) -> Tuple[torch.Tensor, torch.Tensor]:  # s1, s2 (SPLITS, B, C) fp32
    """First half of the split reduction: each program sums one chunk of a row, about the row's
    (or the sample's) first element."""
    batch, c, hw = x.shape[0], x.shape[1], x.shape[2] * x.shape[3]
    block_c, block_hw = _split_tile(x)
    n_cblocks = cdiv(c, block_c)
    n_splits, chunk = _splits(x.device, batch * n_cblocks, hw, block_hw)
    s1 = torch.empty((n_splits, batch, c), dtype=torch.float32, device=x.device)
    s2 = torch.empty_like(s1)
    _partial_sums_kernel[(batch * n_cblocks * n_splits,)](
        *rows_view(x), s1, s2, batch, c, hw, n_cblocks, n_splits, chunk,
        SHIFT_PER_SAMPLE=per_sample, BLOCK_C=block_c, BLOCK_HW=block_hw,
    )
    return s1, s2


def statistics_from_sums(
    x: torch.Tensor,  # (B, C, H, W): the tensor the sums were taken over
    sums: Tuple[torch.Tensor, torch.Tensor],  # (SPLITS, B, C) fp32 from partial_sums(x, per_sample)
    eps: float,
    per_sample: bool,
) -> Tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor]]:  # as split_statistics
    """The statistics from the split reduction's partial sums, in one small launch."""
    batch, c, hw = x.shape[0], x.shape[1], x.shape[2] * x.shape[3]
    s1, s2 = sums
    xv, sxb, sxc, _ = rows_view(x)
    stat_shape = (batch,) if per_sample else (batch, c)
    mean = torch.empty(stat_shape, dtype=torch.float32, device=x.device)
    rstd = torch.empty_like(mean)
    std = torch.empty_like(mean) if per_sample else None
    grid, block = _finalize_launch(batch, c, per_sample)
    _finalize_stats_kernel[(grid,)](
        xv, sxb, sxc, s1, s2, mean, rstd, std if per_sample else mean,
        batch, c, s1.shape[0], (c if per_sample else 1) * hw, eps, PER_SAMPLE=per_sample, BLOCK=block,
    )
    return mean, rstd, std


def split_statistics(
    x: torch.Tensor,  # (B, C, H, W)
    eps: float,
    per_sample: bool,  # LayerNorm statistics over (C, H, W) instead of instance statistics
) -> Tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor]]:
    """Split reduction over rows of any length, then the statistics in fp32 (a second launch).

    Returns mean and rstd, (B, C) per instance or (B,) per sample with rstd = 1 / (std + eps),
    and the unbiased std (B,) per sample (None per instance).
    """
    return statistics_from_sums(x, partial_sums(x, per_sample), eps, per_sample)


def partial_grad_sums(
    grad: torch.Tensor,  # (B, C, H, W)
    x: torch.Tensor,  # (B or 1, C, H, W)
    mean: torch.Tensor, rstd: torch.Tensor,  # (B, C) fp32, any strides
    scale: Optional[torch.Tensor], bias: Optional[torch.Tensor],  # (B, C) or None
    activation: str,
) -> Tuple[torch.Tensor, torch.Tensor]:  # s1, s2 (SPLITS, B, C) fp32
    """Split reduction of dy (the gradient at the activation's input) and dy * xhat per chunk of each row."""
    batch, c, hw = grad.shape[0], x.shape[1], x.shape[2] * x.shape[3]
    block_c, block_hw = _split_tile(x)
    n_cblocks = cdiv(c, block_c)
    n_splits, chunk = _splits(x.device, batch * n_cblocks, hw, block_hw)
    s1 = torch.empty((n_splits, batch, c), dtype=torch.float32, device=x.device)
    s2 = torch.empty_like(s1)
    _partial_grad_sums_kernel[(batch * n_cblocks * n_splits,)](
        *rows_view(x), *rows_view(grad), *per_row_view(mean, rstd), *per_row_view(scale, bias, stand_in=x),
        s1, s2, batch, c, hw, n_cblocks, n_splits, chunk,
        HAS_AFFINE=scale is not None, ACT=activation_code(activation), BLOCK_C=block_c, BLOCK_HW=block_hw,
    )
    return s1, s2


def grad_terms_from_sums(
    sums: Tuple[torch.Tensor, torch.Tensor],  # (SPLITS, B, C) fp32 from partial_grad_sums
    rstd: torch.Tensor,  # (B, C) fp32, any strides
    std: Optional[torch.Tensor],  # (B,) fp32 unbiased std when per sample, else None
    scale: Optional[torch.Tensor],  # (B, C) or None (required when per sample)
    hw: int,
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # coef (3, B, C); sum(dy), sum(dy * xhat) (B, C)
    """The dx coefficients and row sums from the partial sums, in one small launch."""
    s1, s2 = sums
    batch, c = s1.shape[1], s1.shape[2]
    per_sample = std is not None
    sum_dy, sum_dy_xhat = empty_statistics(batch, c, s1.device)
    coef = torch.empty((3, batch, c), dtype=torch.float32, device=s1.device)
    grid, block = _finalize_launch(batch, c, per_sample)
    _finalize_grad_kernel[(grid,)](
        s1, s2, *per_row_view(rstd), std if per_sample else rstd, *per_row_view(scale, stand_in=rstd),
        sum_dy, sum_dy_xhat, coef, batch, c, s1.shape[0], (c if per_sample else 1) * hw,
        PER_SAMPLE=per_sample, HAS_AFFINE=scale is not None, BLOCK=block,
    )
    return coef, sum_dy, sum_dy_xhat


def split_grad_terms(
    grad: torch.Tensor,  # (B, C, H, W)
    x: torch.Tensor,  # (B or 1, C, H, W)
    mean: torch.Tensor, rstd: torch.Tensor,  # (B, C) fp32, any strides
    std: Optional[torch.Tensor],  # (B,) fp32 unbiased std when per_sample, else None
    scale: Optional[torch.Tensor], bias: Optional[torch.Tensor],  # (B, C) or None (required when per_sample)
    activation: str,
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # coef (3, B, C); sum(dy), sum(dy * xhat) (B, C)
    """Split reduction of dy and dy * xhat over each row, then (a second launch) the
    coefficients of dx = coef[0] * dy + coef[1] * xhat + coef[2]."""
    sums = partial_grad_sums(grad, x, mean, rstd, scale, bias, activation)
    return grad_terms_from_sums(sums, rstd, std, scale, x.shape[2] * x.shape[3])
