"""Nearest x2 upsampling followed by a 5x5 conv, computed without upsampling (inference fast path).

The decoder's ``Upsample(x2, nearest) -> pad 2 -> conv 5x5`` reads each low-resolution pixel
four times. Splitting the output by its 2x2 phase, each phase is a 3x3 conv of the
low-resolution input with summed taps (even phase: (w0 + w1, w2 + w3, w4), odd phase:
(w0, w1 + w2, w3 + w4) per axis), so all four phases are one 3x3 conv with 4*C_out channels
followed by a pixel shuffle: 36 instead of 100 multiply-adds per output pixel and channel,
the same result up to fp32 rounding.

Padding: zero and replicate padding of the upsampled image equal the same padding of the
low-resolution image, so the rewrite is exact everywhere. Reflect padding differs only in the
padding row/column two pixels out, which only the first and last output row and column read;
those four lines are recomputed the original way from thin strips of the input.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .blocks import Conv2dBlock, ReplicationPad2d


def _phase_taps(weight: torch.Tensor, dim: int) -> list:
    """Split a 5-tap axis of ``weight`` into the even and odd phase's 3 taps along ``dim``."""
    w = [weight.select(dim, i) for i in range(5)]
    even = torch.stack([w[0] + w[1], w[2] + w[3], w[4]], dim)
    odd = torch.stack([w[0], w[1] + w[2], w[3] + w[4]], dim)
    return [even, odd]


def polyphase_weight(weight: torch.Tensor) -> torch.Tensor:
    """(C_out, C_in, 5, 5) -> (4 * C_out, C_in, 3, 3), channel c * 4 + py * 2 + px (pixel_shuffle order)."""
    phases = []
    for rows in _phase_taps(weight, 2):
        for both in _phase_taps(rows, 3):
            phases.append(both)
    return torch.stack(phases, 1).reshape(-1, weight.shape[1], 3, 3)


class PolyphaseUpsampleConv(nn.Module):
    """Drop-in for ``[Upsample(x2), Conv2dBlock(5x5, pad 2)]`` at inference; norm and activation
    of the block are applied as before."""

    def __init__(self, block: Conv2dBlock):
        super().__init__()
        conv = block.conv
        if not isinstance(conv, nn.Conv2d) or conv.kernel_size != (5, 5) or conv.stride != (1, 1):
            raise ValueError("PolyphaseUpsampleConv needs a plain 5x5 stride-1 conv block")
        self.block = block
        self.reflect = isinstance(block.pad, nn.ReflectionPad2d)
        self.low_res_pad = ReplicationPad2d(1) if self.reflect else type(block.pad)(1)
        if hasattr(block.pad, "impl"):  # the padding kernel as the block's own pad uses it
            self.low_res_pad.impl = block.pad.impl
        self.register_buffer("weight", polyphase_weight(conv.weight.detach()), persistent=False)
        self.register_buffer("bias", conv.bias.detach().repeat_interleave(4), persistent=False)

    def _direct(self, x: torch.Tensor) -> torch.Tensor:
        """The original computation on a (thin) input."""
        return self.block.convolve(F.interpolate(x, scale_factor=2, mode="nearest"))

    def convolve(self, x: torch.Tensor) -> torch.Tensor:  # (B, C_in, H, W) -> (B, C_out, 2H, 2W)
        weight = self.weight.to(x.dtype)
        out = F.pixel_shuffle(F.conv2d(self.low_res_pad(x), weight, self.bias.to(x.dtype)), 2)
        if self.reflect:
            h, w = x.shape[-2:]
            if h < 3 or w < 3:
                return self._direct(x)
            out[..., 0, :] = self._direct(x[..., :3, :])[..., 0, :]
            out[..., -1, :] = self._direct(x[..., -3:, :])[..., -1, :]
            out[..., :, 0] = self._direct(x[..., :, :3])[..., :, 0]
            out[..., :, -1] = self._direct(x[..., :, -3:])[..., :, -1]
        return out

    def forward(self, x):
        return self.block.finish(self.convolve(x))


class PolyphaseDecoder(nn.Module):
    """A Decoder whose upsample + 5x5 conv pairs run in polyphase form (shares its parameters)."""

    def __init__(self, decoder: nn.Module):
        super().__init__()
        self.decoder = decoder
        layers = list(decoder.model)[1:]
        tail = []
        while layers:
            layer = layers.pop(0)
            if isinstance(layer, nn.Upsample) and layers and isinstance(layers[0], Conv2dBlock):
                tail.append(PolyphaseUpsampleConv(layers.pop(0)))
            else:
                tail.append(layer)
        self.tail = nn.Sequential(*tail)

    def forward(self, content, adain_params):
        # content: (B or 1, C, h, w); adain_params: (B, P) -> images (B, C_out, h * 2^n, w * 2^n)
        return self.tail(self.decoder.forward_res_blocks(content, adain_params))
