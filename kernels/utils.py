"""Helpers shared by the kernel files: host arithmetic, the Triton interpreter and autotuning
switches, the statistics dtype, activation codes, and the views that address tensors as rows.

The normalization kernels address every (B, C, H, W) tensor as (B, C, H*W) rows through its
strides, so NCHW (H*W stride 1), channels_last (C stride 1) and batch-expanded views (B stride
0: one content map shared by K styles) are read in place; any other layout is copied to NCHW
first. Per-row values, (B, C) tensors such as scale and bias or mean and rstd, are addressed
through their (B, C) strides: LayerNorm passes its per-sample statistics with channel stride 0
and gamma/beta with batch stride 0.
"""
from __future__ import annotations

import os
from typing import List, Optional, Tuple

import torch

from .activation import FUSED_ACTIVATIONS

try:
    import triton
    import triton.language as tl
except ImportError:  # CPU, Jetson or export installs: the reference path runs instead
    triton = None

AUTOTUNE_ENV_VAR = "MUNIT_FAST_AUTOTUNE"
# Autotuning key: the row shape and the layout (H*W stride 1 for NCHW, C for channels_last).
TUNING_KEY = ["C", "HW", "sxhw"]
# Warp counts tried for the single-pass and split-reduction kernels.
WARP_CHOICES = (4, 8, 16)


# Host arithmetic in plain Python: triton.cdiv / next_power_of_2 are JIT-aware helpers, slower
# than plain arithmetic, and every launch makes several of these calls.
def cdiv(a: int, b: int) -> int:
    return -(-a // b)


def next_power_of_2(n: int) -> int:
    return 1 if n <= 1 else 1 << (n - 1).bit_length()


def triton_interpreting() -> bool:
    """True when Triton runs its kernels in the CPU interpreter (TRITON_INTERPRET=1)."""
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


def autotuning() -> bool:
    """Off in the interpreter (it cannot time kernels) and with MUNIT_FAST_AUTOTUNE=0 (quick
    compiled test runs); each kernel then runs its first configuration."""
    return not triton_interpreting() and os.environ.get(AUTOTUNE_ENV_VAR, "1") != "0"


def tuning_configs(choices) -> List["triton.Config"]:
    """Triton configs of (kwargs, num_warps) choices: all of them when autotuning, else the first."""
    configs = [triton.Config(kwargs, num_warps=warps) for kwargs, warps in choices]
    return configs if autotuning() else configs[:1]


def statistics_dtype(x: torch.Tensor) -> torch.dtype:
    """The dtype normalization statistics are computed in: fp32 for fp32/fp16/bf16 inputs, fp64 for fp64."""
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def activation_code(activation: str) -> int:
    """The ``ACT`` constexpr of the kernels: 0 none, 1 relu, 2 lrelu (see ``apply_activation``)."""
    if activation not in FUSED_ACTIVATIONS:
        raise ValueError(f"fused activation must be one of {FUSED_ACTIVATIONS}, got {activation!r}")
    return FUSED_ACTIVATIONS.index(activation)


if triton is not None:

    @triton.jit
    def apply_activation(y, ACT: tl.constexpr):
        # y: any tile; ACT from activation_code (lrelu with MUNIT's slope 0.2)
        if ACT == 1:
            y = tl.maximum(y, 0.0)
        elif ACT == 2:
            y = tl.where(y > 0, y, y * 0.2)
        return y

    @triton.jit
    def activation_grad(g, y_pre, ACT: tl.constexpr):
        # g: upstream gradient, y_pre: the activation's input (same tile)
        if ACT == 1:
            g = tl.where(y_pre > 0, g, 0.0)
        elif ACT == 2:
            g = tl.where(y_pre > 0, g, g * 0.2)
        return g


def is_channels_last(t: torch.Tensor) -> bool:
    """True when channels are the innermost axis in memory (batch stride ignored: it may be 0)."""
    _, c, h, w = t.shape
    if c == 1 or h * w == 1:
        return False
    _, sc, sh, sw = t.stride()
    return sc == 1 and (w == 1 or sw == c) and (h == 1 or sh == w * c)


def rows_view(
    t: Optional[torch.Tensor],  # (B, C, H, W) or None
    stand_in: Optional[torch.Tensor] = None,  # passed in t's place when t is None
) -> Tuple[torch.Tensor, int, int, int]:
    """Kernel arguments (tensor, stride_b, stride_c, stride_hw) addressing ``t`` as (B, C, H*W).

    In place when H and W flatten into one strided axis (NCHW, channels_last, expanded
    batch); otherwise an NCHW copy. A batch-1 tensor gets batch stride 0, so it serves every
    sample of a launch over a larger batch (one content map decoded with K styles). Without
    ``t``, ``stand_in`` with strides 0: the kernel does not read it.
    """
    if t is None:
        return stand_in, 0, 0, 0
    _, _, h, w = t.shape
    sb, sc, sh, sw = t.stride()
    if w == 1:
        shw = sh
    elif h == 1 or sh == w * sw:
        shw = sw
    else:
        t = t.contiguous()
        sb, sc, _, shw = t.stride()
    return t, 0 if t.shape[0] == 1 else sb, sc, shw


def per_row_view(
    *tensors: Optional[torch.Tensor],  # (B, C) each; all or none None
    stand_in: Optional[torch.Tensor] = None,  # passed in their place when they are None
) -> tuple:
    """Kernel arguments (*tensors, stride_b, stride_c) of (B, C) tensors holding one value per
    row (scale and bias, mean and rstd); without them, ``stand_in`` for each and strides 0. The
    kernels read every tensor with one pair of strides: tensors laid out differently are copied
    to one layout first."""
    if tensors[0] is None:
        return (stand_in,) * len(tensors) + (0, 0)
    if any(t.stride() != tensors[0].stride() for t in tensors[1:]):
        tensors = tuple(t.contiguous() for t in tensors)
    return (*tensors, *tensors[0].stride())


def empty_like_layout(x: torch.Tensor, batch: int, dtype: torch.dtype) -> torch.Tensor:
    """An uninitialised (batch, C, H, W) tensor in x's memory format (channels_last or NCHW)."""
    if x.shape[0] == batch and (x.is_contiguous() or x.is_contiguous(memory_format=torch.channels_last)):
        return torch.empty_like(x, dtype=dtype)  # the common case, with less host time
    fmt = torch.channels_last if is_channels_last(x) else torch.contiguous_format
    return torch.empty((batch, *x.shape[1:]), dtype=dtype, device=x.device, memory_format=fmt)


def empty_statistics(batch: int, channels: int, device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    """Two uninitialised (batch, channels) fp32 tensors (mean and rstd, or the two row sums)."""
    first = torch.empty((batch, channels), dtype=torch.float32, device=device)
    return first, torch.empty_like(first)
