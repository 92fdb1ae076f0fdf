"""Reflection and replication padding of (B, C, H, W) images: one read of x, one write of y.

Every convolution of MUNIT's generator reads a padded copy of its input (reflect, 1 to 3
pixels). PyTorch's own padding kernel moves those bytes at a small fraction of the GPU's
bandwidth (on an H200 it took 21% of a graphed fp16 generator's device time at 256x256,
more than all normalizations together), so inference pads with the Triton kernel below.

The kernel writes each output element once and reads its source through the reflected or
clamped index; NCHW programs write runs of one output plane, channels_last tiles run along C
(both coalesced). Calls
that record a backward (training) and exports use the reference, ``F.pad``, whose gradient is
PyTorch's.
"""
from __future__ import annotations

from typing import Sequence, Tuple

import torch
import torch.nn.functional as F

from .dispatch import needs_autograd, resolve_impl
from .norm_act import cdiv, is_channels_last, next_power_of_2

try:
    import triton
    import triton.language as tl
except ImportError:  # CPU, Jetson or export installs: the reference path runs instead
    triton = None

MODES = ("reflect", "replicate")
# Output elements per program: NCHW programs take a run of one output plane, channels_last
# programs a tile of pixels x channels (at most CHANNELS_LAST_TILE_C channels wide).
NCHW_BLOCK = 1024
MAX_GRID_Y = 65535  # CUDA's limit on a launch grid's second axis
TILE_ELEMENTS = 2048
CHANNELS_LAST_TILE_C = 64


if triton is not None:

    @triton.jit
    def _source_index(o, before, size, REFLECT: tl.constexpr):
        """Input index read by output index ``o`` of an axis padded by ``before`` in front."""
        i = o - before
        if REFLECT:  # -k -> k and (size - 1) + k -> (size - 1) - k
            i = tl.abs(i)
            i = (size - 1) - tl.abs((size - 1) - i)
        else:
            i = tl.minimum(tl.maximum(i, 0), size - 1)
        return i

    @triton.jit
    def _pad_nchw(
        x_ptr, y_ptr,
        H, W, HO, WO, TOP, LEFT,
        REFLECT: tl.constexpr, BLOCK: tl.constexpr,
    ):
        # x: (planes, H, W) contiguous; y: (planes, HO, WO) contiguous. Program (plane, chunk) writes
        # BLOCK consecutive elements of its output plane: the stores are contiguous and the loads
        # follow them along each row (2-D tiles along W measured 3-5x slower on an H200).
        plane = tl.program_id(0).to(tl.int64)
        index = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
        mask = index < HO * WO
        oh = index // WO
        ow = index - oh * WO
        ih = _source_index(oh, TOP, H, REFLECT)
        iw = _source_index(ow, LEFT, W, REFLECT)
        values = tl.load(x_ptr + plane * H * W + ih * W + iw, mask=mask)
        tl.store(y_ptr + plane * HO * WO + index, values, mask=mask)

    @triton.jit
    def _pad_channels_last(
        x_ptr, y_ptr,
        C, H, W, HO, WO, TOP, LEFT, TILES_P, TILES_C,
        REFLECT: tl.constexpr, BLOCK_P: tl.constexpr, BLOCK_C: tl.constexpr,
    ):
        # x: (B, H, W, C) in memory; y: (B, HO, WO, C); a program copies BLOCK_P output pixels x BLOCK_C channels
        pid = tl.program_id(0)
        tiles = TILES_P * TILES_C
        b = (pid // tiles).to(tl.int64)
        tile = pid % tiles
        pixel = (tile // TILES_C) * BLOCK_P + tl.arange(0, BLOCK_P)
        c = (tile % TILES_C) * BLOCK_C + tl.arange(0, BLOCK_C)
        oh = pixel // WO
        ow = pixel % WO
        ih = _source_index(oh, TOP, H, REFLECT)
        iw = _source_index(ow, LEFT, W, REFLECT)
        mask = (pixel < HO * WO)[:, None] & (c < C)[None, :]
        source = (ih * W + iw).to(tl.int64) * C
        values = tl.load(x_ptr + b * H * W * C + source[:, None] + c[None, :], mask=mask)
        tl.store(y_ptr + b * HO * WO * C + (pixel.to(tl.int64) * C)[:, None] + c[None, :], values, mask=mask)


def _launch(x: torch.Tensor, padding: Tuple[int, int, int, int], mode: str) -> torch.Tensor:
    left, right, top, bottom = padding
    b, c, h, w = x.shape
    ho, wo = h + top + bottom, w + left + right
    reflect = mode == "reflect"
    if is_channels_last(x):
        y = torch.empty((b, c, ho, wo), dtype=x.dtype, device=x.device, memory_format=torch.channels_last)
        block_c = min(next_power_of_2(c), CHANNELS_LAST_TILE_C)
        block_p = TILE_ELEMENTS // block_c
        tiles_p, tiles_c = cdiv(ho * wo, block_p), cdiv(c, block_c)
        _pad_channels_last[(b * tiles_p * tiles_c,)](
            x, y, c, h, w, ho, wo, top, left, tiles_p, tiles_c,
            REFLECT=reflect, BLOCK_P=block_p, BLOCK_C=block_c, num_warps=4,
        )
        return y
    x = x.contiguous()
    y = torch.empty((b, c, ho, wo), dtype=x.dtype, device=x.device)
    # planes over grid axis 0 (up to 2^31 - 1), runs over axis 1 (at most MAX_GRID_Y: longer for huge planes)
    block = min(next_power_of_2(ho * wo), max(NCHW_BLOCK, next_power_of_2(cdiv(ho * wo, MAX_GRID_Y))))
    _pad_nchw[(b * c, cdiv(ho * wo, block))](
        x, y, h, w, ho, wo, top, left, REFLECT=reflect, BLOCK=block, num_warps=4,
    )
    return y


def _kernel_applies(x: torch.Tensor, padding: Sequence[int], mode: str) -> bool:
    """4-D, non-empty, and (for reflect) every pad smaller than its axis, as F.pad requires;
    anything else goes to the reference, which raises PyTorch's error for invalid pads."""
    if x.dim() != 4 or x.numel() == 0 or min(padding) < 0:
        return False
    left, right, top, bottom = padding
    h, w = x.shape[-2:]
    return mode != "reflect" or (max(top, bottom) < h and max(left, right) < w)


def pad2d(
    x: torch.Tensor,  # (B, C, H, W)
    padding: Sequence[int],  # (left, right, top, bottom), as nn.ReflectionPad2d.padding
    mode: str = "reflect",
    impl: str = "auto",
) -> torch.Tensor:  # (B, C, H + top + bottom, W + left + right), x's memory format
    if mode not in MODES:
        raise ValueError(f"pad mode must be one of {MODES}, got {mode!r}")
    padding = tuple(int(p) for p in padding)
    if (resolve_impl(impl, x) == "triton" and not needs_autograd(x) and _kernel_applies(x, padding, mode)):
        return _launch(x, padding, mode)
    return pad2d_ref(x, padding, mode)


def pad2d_ref(
    x: torch.Tensor,  # (B, C, H, W)
    padding: Sequence[int],  # (left, right, top, bottom)
    mode: str = "reflect",
) -> torch.Tensor:  # (B, C, H + top + bottom, W + left + right)
    return F.pad(x, tuple(padding), mode=mode)
