"""Triton kernels shared by AdaIN, instance norm and MUNIT's LayerNorm.

All three ops normalize ``x`` with fp32 statistics, then apply a per-(b, c) scale and shift,
an activation (none | relu | lrelu) and an optional residual add:

    y = act(scale[b,c] * (x - mean[b,c]) * rstd[b,c] + bias[b,c]) (+ residual)

AdaIN and instance norm hold one statistic per (b, c); LayerNorm holds one per sample and
passes it as a (B, C) view with channel stride 0, and gamma/beta as views with batch
stride 0. Every tensor is addressed as (B, C, H*W) through its strides, so NCHW (H*W stride
1), channels_last (C stride 1) and batch-expanded views (B stride 0: one content map shared
by K styles) are read in place; any other layout is copied to NCHW first.

Kernel shape by row length (a row is one (b, c) plane of H*W elements):
- short rows (the tile fits in registers): one program normalizes ``BLOCK_C`` whole rows,
  reading x once (``_fused_*`` kernels, instance statistics only);
- long rows: a split reduction (``_partial_*`` kernels: each program sums one chunk of a
  row), then an elementwise pass whose programs add their rows' chunks into the instance
  statistics themselves (``FROM_SUMS``): two launches, no host-side arithmetic. Rows cut into
  many chunks, and MUNIT's LayerNorm, whose statistics span a whole sample, have them formed
  by a small kernel between the two (``_finalize_*``). The elementwise pass walks the rows in
  reverse, so its second read of x starts with what the reduction left in L2.
For channels_last, tiles are wide in C (coalesced along the contiguous channel axis): a
dedicated tile shape of the same kernels, no copy.

Tuning: the single-pass tile follows from row length and layout; its warp count and how many
programs share its rows, the split reduction's warp count and the elementwise pass's tile are
autotuned on the GPU per (C, H*W, layout). In Triton's CPU interpreter, or with
MUNIT_FAST_AUTOTUNE=0, each kernel runs one configuration untimed.
"""
from __future__ import annotations

import functools
from typing import List, Optional, Tuple

import torch

from .utils import (
    TUNING_KEY, WARP_CHOICES, activation_code, autotuning, cdiv, empty_like_layout, empty_statistics,
    is_channels_last, next_power_of_2, per_row_view, rows_view, triton_interpreting, tuning_configs,
)

try:
    import triton
    import triton.language as tl

    from .utils import activation_grad, apply_activation
except ImportError:  # CPU, Jetson or export installs: the reference path runs instead
    triton = None

# Largest register tile (elements) for the single-pass kernels; longer rows take the split path.
MAX_FUSED_TILE = 8192
# Tile of the split path: (channels, H*W) per program, by layout.
SPLIT_TILE_NCHW = (1, 2048)
SPLIT_TILE_CHANNELS_LAST = (64, 64)
# Channels per program in single-pass channels_last tiles (coalesced loads along C).
FUSED_CHANNELS_LAST_C = 16
# The split reduction aims at this many programs per streaming multiprocessor.
PROGRAMS_PER_SM = 4
# Rows (or channels) per program when the partial sums are combined into statistics.
FINALIZE_BLOCK = 1024
# Chunks per row up to which the elementwise pass adds the partial sums up itself. Every one of
# its programs re-reads all of its rows' sums, so rows cut into more chunks (few long rows, as in
# channels_last, take hundreds) have their statistics formed by one small launch instead.
MAX_SPLITS_FROM_SUMS = 8
# Elementwise-pass tiles (BLOCK_C, BLOCK_HW, num_warps) the autotuner chooses from, by layout.
ELEMENTWISE_TILES_NCHW = ((1, 1024, 4), (1, 2048, 4), (1, 4096, 8), (2, 2048, 8))
ELEMENTWISE_TILES_CHANNELS_LAST = ((64, 64, 4), (32, 128, 4), (128, 32, 4), (64, 128, 8))
INTERPRETER_TILE_NCHW, INTERPRETER_TILE_CHANNELS_LAST = (2, 64, 4), (4, 32, 4)
# The single-pass tile's rows are split over this many programs (autotuned; 1 first).
ROW_SPLITS = (1, 2, 4)


def _tile_configs(tiles, interpreter_tile) -> List["triton.Config"]:
    """The interpreter runs ``interpreter_tile``: small, so test rows span several blocks."""
    tiles = [interpreter_tile] if triton_interpreting() else tiles
    return tuning_configs([({"BLOCK_C": c, "BLOCK_HW": hw}, warps) for c, hw, warps in tiles])


def _warp_configs() -> List["triton.Config"]:
    return tuning_configs([({}, warps) for warps in WARP_CHOICES])


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

    @triton.autotune(configs=_fused_configs(), key=TUNING_KEY, prune_configs_by={"early_config_prune": _prune_row_splits})
    @triton.jit
    def _fused_forward_kernel(
        x_ptr,  # (B or 1, C, HW) strided (sxb, sxc, sxhw), any float dtype
        scale_ptr, bias_ptr,  # (B, C) strided (sab, sac); read only when HAS_AFFINE
        res_ptr,  # (B, C, HW) strided (srb, src, srhw); read only when HAS_RESIDUAL
        y_ptr,  # (B, C, HW) strided (syb, syc, syhw), x's dtype
        mean_ptr, rstd_ptr,  # (B, C) fp32 contiguous, written for the backward pass
        C, HW, eps,
        sxb, sxc, sxhw, sab, sac, srb, src, srhw, syb, syc, syhw,
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

    @triton.autotune(configs=_fused_configs(), key=TUNING_KEY, prune_configs_by={"early_config_prune": _prune_row_splits})
    @triton.jit
    def _fused_backward_kernel(
        x_ptr,  # (B or 1, C, HW) strided (sxb, sxc, sxhw)
        g_ptr,  # (B, C, HW) strided (sgb, sgc, sghw): gradient of y
        mean_ptr, rstd_ptr,  # (B, C) fp32 strided (smb, smc)
        scale_ptr, bias_ptr,  # (B, C) strided (sab, sac); read only when HAS_AFFINE
        dx_ptr,  # (B, C, HW) strided (sdb, sdc, sdhw)
        sum_dy_ptr, sum_dy_xhat_ptr,  # (B, C) fp32 contiguous: grad of bias and of scale
        C, HW,
        sxb, sxc, sxhw, sgb, sgc, sghw, smb, smc, sab, sac, sdb, sdc, sdhw,
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

    @triton.autotune(configs=_warp_configs(), key=TUNING_KEY)
    @triton.jit
    def _partial_sums_kernel(
        x_ptr,  # (B, C, HW) strided (sxb, sxc, sxhw)
        s1_ptr, s2_ptr,  # (SPLITS, B, C) fp32 contiguous: sum(x - shift), sum((x - shift)^2) per chunk
        B, C, HW, n_cblocks, n_splits, chunk,
        sxb, sxc, sxhw,
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
        x_ptr,  # (B, C, HW) strided (sxb, sxc, .): each row's first element is its shift
        s1_ptr, s2_ptr,  # (SPLITS, B, C) fp32 contiguous partial sums from _partial_sums_kernel
        mean_ptr, rstd_ptr,  # out, fp32: (B, C) contiguous, or (B,) when PER_SAMPLE
        std_ptr,  # out (B,) fp32, PER_SAMPLE only: the unbiased std, kept for the backward pass
        B, C, n_splits, n, eps, sxb, sxc,
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
        x_ptr,  # (B or 1, C, HW) strided (sxb, sxc, sxhw)
        mean_ptr, rstd_ptr,  # (B, C) fp32 strided (smb, smc): read, or written when FROM_SUMS
        s1_ptr, s2_ptr,  # (SPLITS, stats_batch, C) fp32 partial sums; read only when FROM_SUMS
        scale_ptr, bias_ptr,  # (B, C) strided (sab, sac); read only when HAS_AFFINE
        res_ptr,  # (B, C, HW) strided (srb, src, srhw); read only when HAS_RESIDUAL
        y_ptr,  # (B, C, HW) strided (syb, syc, syhw)
        C, HW, n_splits, stats_batch, eps,
        sxb, sxc, sxhw, smb, smc, sab, sac, srb, src, srhw, syb, syc, syhw,
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

    @triton.autotune(configs=_warp_configs(), key=TUNING_KEY)
    @triton.jit
    def _partial_grad_sums_kernel(
        x_ptr,  # (B or 1, C, HW) strided (sxb, sxc, sxhw)
        g_ptr,  # (B, C, HW) strided (sgb, sgc, sghw): gradient of y
        mean_ptr, rstd_ptr,  # (B, C) fp32 strided (smb, smc)
        scale_ptr, bias_ptr,  # (B, C) strided (sab, sac); read only when HAS_AFFINE
        s1_ptr, s2_ptr,  # (SPLITS, B, C) fp32 contiguous: sum(dy), sum(dy * xhat) per chunk
        B, C, HW, n_cblocks, n_splits, chunk,
        sxb, sxc, sxhw, sgb, sgc, sghw, smb, smc, sab, sac,
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
        rstd_ptr,  # (B, C) fp32 strided (smb, smc)
        std_ptr,  # (B,) fp32, PER_SAMPLE only
        scale_ptr,  # (B, C) strided (sab, sac); read when HAS_AFFINE (always when PER_SAMPLE)
        sum_dy_ptr, sum_dy_xhat_ptr,  # out (B, C) fp32: row sums, i.e. per-sample grads of bias and scale
        coef_ptr,  # out (3, B, C) fp32: dx = coef[0] * dy + coef[1] * xhat + coef[2]
        B, C, n_splits, n, smb, smc, sab, sac,
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

    @triton.jit
    def _normalize_backward_kernel(
        x_ptr,  # (B or 1, C, HW) strided (sxb, sxc, sxhw)
        g_ptr,  # (B, C, HW) strided (sgb, sgc, sghw): gradient of y
        mean_ptr, rstd_ptr,  # (B, C) fp32 strided (smb, smc)
        scale_ptr, bias_ptr,  # (B, C) strided (sab, sac); read only when HAS_AFFINE
        coef_ptr,  # (3, B, C) fp32 contiguous: dx = coef[0] * dy + coef[1] * xhat + coef[2]; unless FROM_SUMS
        s1_ptr, s2_ptr,  # (SPLITS, B, C) fp32 partial sums of dy and dy * xhat; read only when FROM_SUMS
        sum_dy_ptr, sum_dy_xhat_ptr,  # out (B, C) fp32 row sums (grads of bias and scale); FROM_SUMS only
        dx_ptr,  # (B, C, HW) strided (sdb, sdc, sdhw)
        B, C, HW, n_splits,
        sxb, sxc, sxhw, sgb, sgc, sghw, smb, smc, sab, sac, sdb, sdc, sdhw,
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
    _normalize_channels_last = triton.autotune(
        _tile_configs(ELEMENTWISE_TILES_CHANNELS_LAST, INTERPRETER_TILE_CHANNELS_LAST), key=TUNING_KEY)(_normalize_kernel)
    _normalize_backward_nchw = triton.autotune(
        _tile_configs(ELEMENTWISE_TILES_NCHW, INTERPRETER_TILE_NCHW), key=TUNING_KEY)(_normalize_backward_kernel)
    _normalize_backward_channels_last = triton.autotune(
        _tile_configs(ELEMENTWISE_TILES_CHANNELS_LAST, INTERPRETER_TILE_CHANNELS_LAST), key=TUNING_KEY)(_normalize_backward_kernel)


def fused_tile(x: torch.Tensor) -> Optional[Tuple[int, int, int]]:
    """(BLOCK_C, BLOCK_HW, MIN_ROWS) of the single-pass kernels for x's rows, or None for the
    split path: the largest tile that fits in registers, and the fewest rows a program may take
    when the autotuner splits it (channels_last needs a span of channels to coalesce)."""
    return _fused_tile(x.shape[1], x.shape[2] * x.shape[3], is_channels_last(x), MAX_FUSED_TILE, FUSED_CHANNELS_LAST_C)


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


def _elementwise_grid(batch: int, c: int, hw: int):
    """Launch grid of the elementwise passes for the tile the autotuner picks."""
    return lambda meta: (batch * cdiv(c, meta["BLOCK_C"]) * cdiv(hw, meta["BLOCK_HW"]),)


def fused_forward(
    x: torch.Tensor,  # (B or 1, C, H, W)
    scale: Optional[torch.Tensor],  # (B, C) or None
    bias: Optional[torch.Tensor],  # (B, C) or None
    residual: Optional[torch.Tensor],  # (B or 1, C, H, W) or None
    activation: str, eps: float, batch: int, tile: Tuple[int, int, int],
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # y (batch, C, H, W), mean, rstd (batch, C) fp32
    """Instance statistics and the normalized output in one pass over short rows."""
    c, hw = x.shape[1], x.shape[2] * x.shape[3]
    xv, sxb, sxc, sxhw = rows_view(x)
    y = empty_like_layout(x, batch, x.dtype)
    _, syb, syc, syhw = rows_view(y)
    rv, srb, src, srhw = rows_view(residual) if residual is not None else (xv, 0, 0, 0)
    scale_t, sab, sac = per_row_view(scale, stand_in=xv)
    bias_t, _, _ = per_row_view(bias, stand_in=xv)
    mean, rstd = empty_statistics(batch, c, x.device)
    block_c, block_hw, min_rows = tile
    _fused_forward_kernel[_fused_grid(batch, c, block_c)](
        xv, scale_t, bias_t, rv, y, mean, rstd, c, hw, eps,
        0 if x.shape[0] == 1 else sxb, sxc, sxhw, sab, sac,
        0 if rv.shape[0] == 1 else srb, src, srhw, syb, syc, syhw,
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
    xv, sxb, sxc, sxhw = rows_view(x)
    gv, sgb, sgc, sghw = rows_view(grad)
    dx = empty_like_layout(x, batch, x.dtype)
    _, sdb, sdc, sdhw = rows_view(dx)
    scale_t, sab, sac = per_row_view(scale, stand_in=xv)
    bias_t, _, _ = per_row_view(bias, stand_in=xv)
    sum_dy, sum_dy_xhat = empty_statistics(batch, c, x.device)
    block_c, block_hw, min_rows = tile
    _fused_backward_kernel[_fused_grid(batch, c, block_c)](
        xv, gv, mean, rstd, scale_t, bias_t, dx, sum_dy, sum_dy_xhat, c, hw,
        0 if x.shape[0] == 1 else sxb, sxc, sxhw, sgb, sgc, sghw, mean.stride(0), mean.stride(1),
        sab, sac, sdb, sdc, sdhw,
        HAS_AFFINE=scale is not None, ACT=activation_code(activation),
        BLOCK_C=block_c, BLOCK_HW=block_hw, MIN_ROWS=min_rows,
    )
    return dx, sum_dy, sum_dy_xhat


def partial_sums(
    x: torch.Tensor,  # (B, C, H, W)
    per_sample: bool,  # LayerNorm: every row of a sample is taken about the sample's first element
) -> Tuple[torch.Tensor, torch.Tensor]:  # s1, s2 (SPLITS, B, C) fp32
    """First half of the split reduction: each program sums one chunk of a row, about the row's
    (or the sample's) first element."""
    batch, c, hw = x.shape[0], x.shape[1], x.shape[2] * x.shape[3]
    xv, sxb, sxc, sxhw = rows_view(x)
    block_c, block_hw = _split_tile(x)
    n_cblocks = cdiv(c, block_c)
    n_splits, chunk = _splits(x.device, batch * n_cblocks, hw, block_hw)
    s1 = torch.empty((n_splits, batch, c), dtype=torch.float32, device=x.device)
    s2 = torch.empty_like(s1)
    _partial_sums_kernel[(batch * n_cblocks * n_splits,)](
        xv, s1, s2, batch, c, hw, n_cblocks, n_splits, chunk, sxb, sxc, sxhw,
        SHIFT_PER_SAMPLE=per_sample, BLOCK_C=block_c, BLOCK_HW=block_hw,
    )
    return s1, s2


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
    block = min(FINALIZE_BLOCK, next_power_of_2(c if per_sample else batch * c))
    grid = batch if per_sample else cdiv(batch * c, block)
    _finalize_stats_kernel[(grid,)](
        xv, s1, s2, mean, rstd, std if per_sample else mean, batch, c, s1.shape[0], (c if per_sample else 1) * hw,
        eps, sxb, sxc, PER_SAMPLE=per_sample, BLOCK=block,
    )
    return mean, rstd, std


def _launch_normalize(x, mean, rstd, sums, eps, scale, bias, residual, activation, batch) -> torch.Tensor:
    c, hw = x.shape[1], x.shape[2] * x.shape[3]
    xv, sxb, sxc, sxhw = rows_view(x)
    y = empty_like_layout(x, batch, x.dtype)
    _, syb, syc, syhw = rows_view(y)
    rv, srb, src, srhw = rows_view(residual) if residual is not None else (xv, 0, 0, 0)
    scale_t, sab, sac = per_row_view(scale, stand_in=xv)
    bias_t, _, _ = per_row_view(bias, stand_in=xv)
    s1, s2 = sums if sums is not None else (mean, mean)
    kernel = _normalize_channels_last if is_channels_last(x) else _normalize_nchw
    kernel[_elementwise_grid(batch, c, hw)](
        xv, mean, rstd, s1, s2, scale_t, bias_t, rv, y, c, hw,
        s1.shape[0] if sums is not None else 0, s1.shape[1] if sums is not None else 1, eps,
        0 if x.shape[0] == 1 else sxb, sxc, sxhw, mean.stride(0), mean.stride(1), sab, sac,
        0 if rv.shape[0] == 1 else srb, src, srhw, syb, syc, syhw,
        FROM_SUMS=sums is not None,
        HAS_AFFINE=scale is not None, HAS_RESIDUAL=residual is not None, ACT=activation_code(activation),
    )
    return y


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


def partial_grad_sums(
    grad: torch.Tensor,  # (B, C, H, W)
    x: torch.Tensor,  # (B or 1, C, H, W)
    mean: torch.Tensor, rstd: torch.Tensor,  # (B, C) fp32, any strides
    scale: Optional[torch.Tensor], bias: Optional[torch.Tensor],  # (B, C) or None
    activation: str,
) -> Tuple[torch.Tensor, torch.Tensor]:  # s1, s2 (SPLITS, B, C) fp32
    """Split reduction of dy (the gradient at the activation's input) and dy * xhat per chunk of each row."""
    batch, c, hw = grad.shape[0], x.shape[1], x.shape[2] * x.shape[3]
    xv, sxb, sxc, sxhw = rows_view(x)
    gv, sgb, sgc, sghw = rows_view(grad)
    scale_t, sab, sac = per_row_view(scale, stand_in=xv)
    bias_t, _, _ = per_row_view(bias, stand_in=xv)
    block_c, block_hw = _split_tile(x)
    n_cblocks = cdiv(c, block_c)
    n_splits, chunk = _splits(x.device, batch * n_cblocks, hw, block_hw)
    s1 = torch.empty((n_splits, batch, c), dtype=torch.float32, device=x.device)
    s2 = torch.empty_like(s1)
    _partial_grad_sums_kernel[(batch * n_cblocks * n_splits,)](
        xv, gv, mean, rstd, scale_t, bias_t, s1, s2, batch, c, hw, n_cblocks, n_splits, chunk,
        0 if x.shape[0] == 1 else sxb, sxc, sxhw, sgb, sgc, sghw, mean.stride(0), mean.stride(1), sab, sac,
        HAS_AFFINE=scale is not None, ACT=activation_code(activation),
        BLOCK_C=block_c, BLOCK_HW=block_hw,
    )
    return s1, s2


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
    scale_t, sab, sac = per_row_view(scale, stand_in=rstd)
    sum_dy, sum_dy_xhat = empty_statistics(batch, c, s1.device)
    coef = torch.empty((3, batch, c), dtype=torch.float32, device=s1.device)
    block = min(FINALIZE_BLOCK, next_power_of_2(c if per_sample else batch * c))
    grid = batch if per_sample else cdiv(batch * c, block)
    _finalize_grad_kernel[(grid,)](
        s1, s2, rstd, std if per_sample else rstd, scale_t, sum_dy, sum_dy_xhat, coef,
        batch, c, s1.shape[0], (c if per_sample else 1) * hw, rstd.stride(0), rstd.stride(1), sab, sac,
        PER_SAMPLE=per_sample, HAS_AFFINE=scale is not None, BLOCK=block,
    )
    return coef, sum_dy, sum_dy_xhat


def _launch_normalize_backward(grad, x, mean, rstd, scale, bias, coef, sums, sum_dy, sum_dy_xhat,
                               activation) -> torch.Tensor:
    batch, c, hw = grad.shape[0], x.shape[1], x.shape[2] * x.shape[3]
    xv, sxb, sxc, sxhw = rows_view(x)
    gv, sgb, sgc, sghw = rows_view(grad)
    dx = empty_like_layout(x, batch, x.dtype)
    _, sdb, sdc, sdhw = rows_view(dx)
    scale_t, sab, sac = per_row_view(scale, stand_in=xv)
    bias_t, _, _ = per_row_view(bias, stand_in=xv)
    s1, s2 = sums if sums is not None else (rstd, rstd)
    kernel = _normalize_backward_channels_last if is_channels_last(x) else _normalize_backward_nchw
    kernel[_elementwise_grid(batch, c, hw)](
        xv, gv, mean, rstd, scale_t, bias_t, coef if coef is not None else rstd, s1, s2,
        sum_dy if sum_dy is not None else rstd, sum_dy_xhat if sum_dy_xhat is not None else rstd,
        dx, batch, c, hw, s1.shape[0] if sums is not None else 0,
        0 if x.shape[0] == 1 else sxb, sxc, sxhw, sgb, sgc, sghw, mean.stride(0), mean.stride(1),
        sab, sac, sdb, sdc, sdhw,
        FROM_SUMS=sums is not None, HAS_AFFINE=scale is not None, ACT=activation_code(activation),
    )
    return dx


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
