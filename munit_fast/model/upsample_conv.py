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
those four lines are recomputed the original way, each from the five padded rows (or columns)
it reads, built from the input's two outermost lines.
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
        """The original computation."""
        return self.block.convolve(F.interpolate(x, scale_factor=2, mode="nearest"))

    @staticmethod
    def _first_and_last_rows(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """x: (B, C_in, H, W), H >= 2 -> (2B, C_out, 1, 2W): output rows 0 (batch :B) and 2H-1
        (batch B:) of upsample x2 -> reflect pad 2 -> 5x5 conv. Row 0 reads padded rows -2..2,
        which are upsampled rows 2, 1, 0, 1, 2, that is input rows 1, 0, 0, 0, 1; row 2H-1
        mirrors it at the bottom."""
        def lines(outer, inner):  # input rows (B, C, 1, W) -> the 5 rows one output row reads
            return torch.cat([inner, outer.expand(-1, -1, 3, -1), inner], 2)

        rows = torch.cat([lines(x[..., :1, :], x[..., 1:2, :]), lines(x[..., -1:, :], x[..., -2:-1, :])])
        rows = rows.unsqueeze(-1).expand(-1, -1, -1, -1, 2).flatten(3)  # nearest x2 along W: (2B, C, 5, 2W)
        rows = F.pad(rows, (2, 2, 0, 0), mode="reflect")  # (2B, C, 5, 2W + 4)
        # one output row as a matrix product: a convolution call on 5-row inputs costs far more
        windows = rows.unfold(3, weight.shape[-1], 1)  # (2B, C, 5, 2W, 5)
        out = torch.tensordot(windows, weight, dims=([1, 2, 4], [1, 2, 3])) + bias  # (2B, 2W, C_out)
        return out.transpose(1, 2).unsqueeze(2)

    def convolve(self, x: torch.Tensor) -> torch.Tensor:  # (B, C_in, H, W) -> (B, C_out, 2H, 2W)
        weight = self.weight.to(x.dtype)
        bias = self.bias.to(x.dtype)
        out = F.pixel_shuffle(F.conv2d(self.low_res_pad(x), weight, bias), 2)
        if self.reflect:
            h, w = x.shape[-2:]
            if h < 2 or w < 2:
                return self._direct(x)  # what the original does (PyTorch refuses the padding)
            batch = x.shape[0]
            conv_weight, conv_bias = self.block.conv.weight.to(x.dtype), self.block.conv.bias.to(x.dtype)
            rows = self._first_and_last_rows(x, conv_weight, conv_bias)  # (2B, C_out, 1, 2W)
            columns = self._first_and_last_rows(x.transpose(2, 3), conv_weight.transpose(2, 3), conv_bias)
            out[..., 0, :], out[..., -1, :] = rows[:batch, :, 0], rows[batch:, :, 0]
            out[..., :, 0], out[..., :, -1] = columns[:batch, :, 0], columns[batch:, :, 0]
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
