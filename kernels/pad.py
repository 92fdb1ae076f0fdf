"""Reflection and replication padding of (B, C, H, W) images: one read of x, one write of y.

Every convolution of MUNIT's generator reads a padded copy of its input (reflect, 1 to 3
pixels). PyTorch's own padding kernel moves those bytes at a small fraction of the GPU's
bandwidth, which makes padding a large share of a generator's device time once its norms are
fused (benches/test_bench_pad.py and test_bench_generator_kernels.py measure both), so the
kernel path pads with the Triton kernel below, forward and backward.

The kernel writes each output element once and reads its source through the reflected or
clamped index; NCHW programs write runs of one output plane, channels_last tiles run along C
(both coalesced). The backward is a gather too: each input element sums the gradients of the
(at most 9 for reflect) outputs that read it, with no atomics. Exports use the reference,
``F.pad``.
"""
from __future__ import annotations

from typing import Sequence, Tuple

import torch
import torch.nn.functional as F

from .dispatch import needs_autograd, resolve_impl
from .utils import cdiv, is_channels_last, next_power_of_2

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
    def _channels_last_tile(TILES_P, TILES_C, BLOCK_P: tl.constexpr, BLOCK_C: tl.constexpr):
        """This program's sample, pixels (BLOCK_P,) and channels (BLOCK_C,) in a channels_last grid."""
        pid = tl.program_id(0)
        tiles = TILES_P * TILES_C
        tile = pid % tiles
        pixel = (tile // TILES_C) * BLOCK_P + tl.arange(0, BLOCK_P)
        c = (tile % TILES_C) * BLOCK_C + tl.arange(0, BLOCK_C)
        return (pid // tiles).to(tl.int64), pixel, c

    @triton.jit
    def _pad_nchw(
        x_ptr, y_ptr,
        H, W, HO, WO, TOP, LEFT,
        REFLECT: tl.constexpr, BLOCK: tl.constexpr,
    ):
        # x: (planes, H, W) contiguous; y: (planes, HO, WO) contiguous. Program (plane, chunk) writes
        # BLOCK consecutive elements of its output plane: the stores are contiguous and the loads
        # follow them along each row (2-D tiles along W were slower).
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
        b, pixel, c = _channels_last_tile(TILES_P, TILES_C, BLOCK_P, BLOCK_C)
        oh = pixel // WO
        ow = pixel % WO
        ih = _source_index(oh, TOP, H, REFLECT)
        iw = _source_index(ow, LEFT, W, REFLECT)
        mask = (pixel < HO * WO)[:, None] & (c < C)[None, :]
        source = (ih * W + iw).to(tl.int64) * C
        values = tl.load(x_ptr + b * H * W * C + source[:, None] + c[None, :], mask=mask)
        tl.store(y_ptr + b * HO * WO * C + (pixel.to(tl.int64) * C)[:, None] + c[None, :], values, mask=mask)

    @triton.jit
    def _reader(i, k: tl.constexpr, before: tl.constexpr, after: tl.constexpr, size, REFLECT: tl.constexpr):
        """The k-th output index that reads input index ``i`` along an axis, and whether it exists.
        Reflect: the copy, the mirror in the front pad, the mirror in the back pad (k = 0, 1, 2).
        Replicate: the copy, then the front pad's outputs (read by i = 0), then the back pad's
        (read by i = size - 1), one per k."""
        if k == 0:
            o, valid = i + before, i >= 0
        elif REFLECT:
            if k == 1:
                o, valid = before - i, (i >= 1) & (i <= before)
            else:
                o, valid = 2 * (size - 1) + before - i, (i >= size - 1 - after) & (i <= size - 2)
        elif k <= before:
            o, valid = i * 0 + (k - 1), i == 0
        else:
            o, valid = i * 0 + size + before + (k - 1 - before), i == size - 1
        return o, valid

    @triton.jit
    def _pad_backward_nchw(
        gy_ptr, gx_ptr,
        H, W, HO, WO,
        TOP: tl.constexpr, BOTTOM: tl.constexpr, LEFT: tl.constexpr, RIGHT: tl.constexpr,
        REFLECT: tl.constexpr, READERS_H: tl.constexpr, READERS_W: tl.constexpr, ACC: tl.constexpr,
        BLOCK: tl.constexpr,
    ):
        # gy: (planes, HO, WO) contiguous; gx: (planes, H, W) contiguous. Each input element gathers
        # the gradients of the outputs that read it (no atomics): program (plane, chunk) writes
        # BLOCK consecutive elements of its gx plane.
        plane = tl.program_id(0).to(tl.int64)
        index = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
        mask = index < H * W
        h = index // W
        w = index - h * W
        acc = tl.zeros([BLOCK], dtype=ACC)
        for kh in tl.static_range(READERS_H):
            oh, valid_h = _reader(h, kh, TOP, BOTTOM, H, REFLECT)
            for kw in tl.static_range(READERS_W):
                ow, valid_w = _reader(w, kw, LEFT, RIGHT, W, REFLECT)
                acc += tl.load(gy_ptr + plane * HO * WO + oh * WO + ow, mask=mask & valid_h & valid_w,
                               other=0.0).to(ACC)
        tl.store(gx_ptr + plane * H * W + index, acc.to(gx_ptr.dtype.element_ty), mask=mask)

    @triton.jit
    def _pad_backward_channels_last(
        gy_ptr, gx_ptr,
        C, H, W, HO, WO, TILES_P, TILES_C,
        TOP: tl.constexpr, BOTTOM: tl.constexpr, LEFT: tl.constexpr, RIGHT: tl.constexpr,
        REFLECT: tl.constexpr, READERS_H: tl.constexpr, READERS_W: tl.constexpr, ACC: tl.constexpr,
        BLOCK_P: tl.constexpr, BLOCK_C: tl.constexpr,
    ):
        # gy: (B, HO, WO, C) in memory; gx: (B, H, W, C); a program fills BLOCK_P input pixels x BLOCK_C channels
        b, pixel, c = _channels_last_tile(TILES_P, TILES_C, BLOCK_P, BLOCK_C)
        h = pixel // W
        w = pixel % W
        mask = (pixel < H * W)[:, None] & (c < C)[None, :]
        acc = tl.zeros([BLOCK_P, BLOCK_C], dtype=ACC)
        for kh in tl.static_range(READERS_H):
            oh, valid_h = _reader(h, kh, TOP, BOTTOM, H, REFLECT)
            for kw in tl.static_range(READERS_W):
                ow, valid_w = _reader(w, kw, LEFT, RIGHT, W, REFLECT)
                source = (oh * WO + ow).to(tl.int64) * C
                acc += tl.load(gy_ptr + b * HO * WO * C + source[:, None] + c[None, :],
                               mask=mask & (valid_h & valid_w)[:, None], other=0.0).to(ACC)
        target = (pixel.to(tl.int64) * C)[:, None] + c[None, :]
        tl.store(gx_ptr + b * H * W * C + target, acc.to(gx_ptr.dtype.element_ty), mask=mask)


def _launch(x: torch.Tensor, padding: Tuple[int, int, int, int], mode: str) -> torch.Tensor:
    left, right, top, bottom = padding
    b, c, h, w = x.shape
    ho, wo = h + top + bottom, w + left + right
    reflect = mode == "reflect"
    if is_channels_last(x):
        y = torch.empty((b, c, ho, wo), dtype=x.dtype, device=x.device, memory_format=torch.channels_last)
        grid, tiles_p, tiles_c, block_p, block_c = _channels_last_grid(b, ho * wo, c)
        _pad_channels_last[grid](
            x, y, c, h, w, ho, wo, top, left, tiles_p, tiles_c,
            REFLECT=reflect, BLOCK_P=block_p, BLOCK_C=block_c, num_warps=4,
        )
        return y
    x = x.contiguous()
    y = torch.empty((b, c, ho, wo), dtype=x.dtype, device=x.device)
    grid, block = _nchw_grid(b * c, ho * wo)
    _pad_nchw[grid](x, y, h, w, ho, wo, top, left, REFLECT=reflect, BLOCK=block, num_warps=4)
    return y


def _nchw_grid(planes: int, plane_elements: int) -> Tuple[Tuple[int, int], int]:
    """(grid, BLOCK): planes on grid axis 0 (up to 2^31 - 1), runs of BLOCK elements of a plane on
    axis 1 (at most MAX_GRID_Y of them: longer runs for huge planes)."""
    block = min(next_power_of_2(plane_elements), max(NCHW_BLOCK, next_power_of_2(cdiv(plane_elements, MAX_GRID_Y))))
    return (planes, cdiv(plane_elements, block)), block


def _channels_last_grid(batch: int, pixels: int, channels: int) -> Tuple[Tuple[int], int, int, int, int]:
    """(grid, TILES_P, TILES_C, BLOCK_P, BLOCK_C) of the channels_last kernels: tiles of pixels x
    channels, at most CHANNELS_LAST_TILE_C channels wide, TILE_ELEMENTS elements each."""
    block_c = min(next_power_of_2(channels), CHANNELS_LAST_TILE_C)
    block_p = TILE_ELEMENTS // block_c
    tiles_p, tiles_c = cdiv(pixels, block_p), cdiv(channels, block_c)
    return (batch * tiles_p * tiles_c,), tiles_p, tiles_c, block_p, block_c


def _readers(before: int, after: int, reflect: bool) -> int:
    """Output indices that may read one input index along an axis (see ``_reader``)."""
    return 3 if reflect else 1 + before + after


def _launch_backward(grad: torch.Tensor, padding: Tuple[int, int, int, int], mode: str,
                     channels_last: bool) -> torch.Tensor:
    """grad: (B, C, HO, WO) gradient of the padded output -> (B, C, H, W) gradient of the input,
    channels_last or NCHW as the input was."""
    left, right, top, bottom = padding
    b, c, ho, wo = grad.shape
    h, w = ho - top - bottom, wo - left - right
    reflect = mode == "reflect"
    readers = dict(TOP=top, BOTTOM=bottom, LEFT=left, RIGHT=right, REFLECT=reflect,
                   READERS_H=_readers(top, bottom, reflect), READERS_W=_readers(left, right, reflect),
                   ACC=tl.float64 if grad.dtype == torch.float64 else tl.float32)  # sums as the norms' statistics
    if channels_last:
        grad = grad.contiguous(memory_format=torch.channels_last)
        gx = torch.empty((b, c, h, w), dtype=grad.dtype, device=grad.device, memory_format=torch.channels_last)
        grid, tiles_p, tiles_c, block_p, block_c = _channels_last_grid(b, h * w, c)
        _pad_backward_channels_last[grid](
            grad, gx, c, h, w, ho, wo, tiles_p, tiles_c, **readers, BLOCK_P=block_p, BLOCK_C=block_c, num_warps=4,
        )
        return gx
    grad = grad.contiguous()
    gx = torch.empty((b, c, h, w), dtype=grad.dtype, device=grad.device)
    grid, block = _nchw_grid(b * c, h * w)
    _pad_backward_nchw[grid](grad, gx, h, w, ho, wo, **readers, BLOCK=block, num_warps=4)
    return gx


class PadFunction(torch.autograd.Function):
    """The padding kernel with its gradient: each input element sums the gradients of the
    outputs that read it (a gather, no atomics)."""

    @staticmethod
    def forward(ctx, x, padding, mode):  # x: (B, C, H, W) -> (B, C, HO, WO)
        ctx.padding, ctx.mode, ctx.channels_last = padding, mode, is_channels_last(x)
        return _launch(x, padding, mode)

    @staticmethod
    def backward(ctx, grad):  # grad: (B, C, HO, WO) -> (B, C, H, W)
        return _launch_backward(grad, ctx.padding, ctx.mode, ctx.channels_last), None, None


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
    if resolve_impl(impl, x) == "triton" and _kernel_applies(x, padding, mode):
        if needs_autograd(x):
            return PadFunction.apply(x, padding, mode)
        return _launch(x, padding, mode)
    return pad2d_ref(x, padding, mode)


def pad2d_ref(
    x: torch.Tensor,  # (B, C, H, W)
    padding: Sequence[int],  # (left, right, top, bottom)
    mode: str = "reflect",
) -> torch.Tensor:  # (B, C, H + top + bottom, W + left + right)
    return F.pad(x, tuple(padding), mode=mode)
