"""The Translator: encode content once, decode K styles in one batched pass, any frame size.

Inputs are padded (reflect) to a multiple of 2^n_downsample and the outputs cropped back, so
a 720x1280 frame or an odd-sized photo translates to the same size.
"""
from __future__ import annotations

import math
from typing import Iterator, Optional, Tuple

import torch
import torch.nn.functional as F

from munit_fast.errors import MunitError
from munit_fast.memory import available_bytes, human_bytes

from .styles import random_styles

STYLE_MIN_SIZE = 16  # the style encoder's four stride-2 convolutions, each padded by 1


class Translator:
    def __init__(self, backend):
        self.backend = backend
        self.style_dim = backend.style_dim
        self.multiple = 2 ** backend.n_downsample
        # The residual blocks reflect-pad the content code by 1, which needs >= 2 pixels there.
        self.min_size = 2 * self.multiple
        self.input_dim = backend.input_dim
        self.output_dim = backend.output_dim
        self.width = backend.content_dim >> backend.n_downsample  # gen.dim
        self.choice = backend.name  # the backend and why it was chosen, as commands print it

    @property
    def name(self) -> str:
        return self.backend.name

    def random_styles(self, count: int, seed: int = 0) -> torch.Tensor:  # -> (count, style_dim)
        return random_styles(count, self.style_dim, seed)

    def style_from_images(self, images: torch.Tensor) -> torch.Tensor:
        """Example-guided styles: (B, C_out, H, W) target-domain images -> (B, style_dim).

        The style encoder halves the image four times and pads each step, so it needs 16 pixels
        a side; a smaller style image is enlarged to that by nearest-neighbour repetition, which
        keeps its colours and their proportions (the encoder ends in a global average)."""
        self._check(images, self.output_dim, "style images")
        h, w = images.shape[-2:]
        if min(h, w) < STYLE_MIN_SIZE:
            scale = STYLE_MIN_SIZE / min(h, w)
            size = (max(STYLE_MIN_SIZE, math.ceil(h * scale)), max(STYLE_MIN_SIZE, math.ceil(w * scale)))
            images = F.interpolate(images, size=size, mode="nearest")
        return self.backend.encode_style(images)

    def _check(self, images: torch.Tensor, channels: int, what: str) -> None:
        if images.dim() != 4 or images.shape[1] != channels:
            raise MunitError(f"{what} must be shaped (B, {channels}, H, W), got {tuple(images.shape)}")

    def _pad(self, images: torch.Tensor):
        """Pad bottom/right to a multiple of 2^n_downsample (and the model's minimum size)."""
        h, w = images.shape[-2:]
        padded_h, padded_w = self.padded_size(h, w)
        pad_h, pad_w = padded_h - h, padded_w - w
        if pad_h or pad_w:
            mode = "reflect" if pad_h < h and pad_w < w else "replicate"
            images = F.pad(images, (0, pad_w, 0, pad_h), mode=mode)
        return images, (h, w)

    def encode_content(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C_in, H, W) in [-1, 1] -> content codes of the padded images."""
        self._check(images, self.input_dim, "images")
        padded, _ = self._pad(images)
        return self.backend.encode_content(padded)

    def decode(self, content: torch.Tensor, styles: torch.Tensor, size: Optional[tuple] = None) -> torch.Tensor:
        """content (1, C, h, w) + styles (K, style_dim) -> (K, C_out, H, W) cropped to ``size``."""
        out = self.backend.decode(content, styles.reshape(styles.shape[0], -1))
        if size is not None:
            out = out[..., : size[0], : size[1]]
        return out

    def padded_size(self, height: int, width: int) -> Tuple[int, int]:
        pad_h = max((-height) % self.multiple, self.min_size - height)
        pad_w = max((-width) % self.multiple, self.min_size - width)
        return height + pad_h, width + pad_w

    def memory_needed(self, height: int, width: int, styles: int) -> int:
        """Upper bound of the bytes one (height, width) image with ``styles`` styles decoded in one
        pass takes: the encoder holds about two gen.dim-channel maps at full size, the decoder
        about six per style (tests/reliability checks the bound against the reference path)."""
        h, w = self.padded_size(height, width)
        plane = 4 * h * w
        return plane * self.width * 2 + styles * plane * (self.width * 6 + self.output_dim)

    def styles_per_pass(self, height: int, width: int, device: str = "cpu") -> int:
        """How many styles of a (height, width) image fit in one decode on ``device`` now (at
        least 1; 0 when even one does not fit). Unknown memory: no limit."""
        budget = available_bytes(device)
        if budget is None:
            return 1 << 30
        one = self.memory_needed(height, width, 1)
        if one > budget:
            return 0
        per_style = self.memory_needed(height, width, 2) - one
        return 1 + int((budget - one) // per_style)

    def check_image_fits(self, height: int, width: int, what: str, hint: str, device: str = "cpu") -> int:
        """styles_per_pass, or one line naming the image, the memory and ``hint`` when none fits."""
        chunk = self.styles_per_pass(height, width, device)
        if chunk == 0:
            raise MunitError(f"{what} ({height}x{width}) would take about "
                             f"{human_bytes(self.memory_needed(height, width, 1))} of memory to translate, more "
                             f"than the {human_bytes(available_bytes(device))} available; {hint}")
        return chunk

    def translate_in_passes(self, image: torch.Tensor, styles: torch.Tensor, per_pass: int,
                            pad: bool = True) -> Iterator[Tuple[int, torch.Tensor]]:
        """image (1, C_in, H, W), styles (K, style_dim) -> (first style index, (k, C_out, H, W))
        for passes of at most ``per_pass`` styles: the content is encoded once."""
        content, size = self._encode_for(image, pad)
        for start in range(0, styles.shape[0], per_pass):
            yield start, self.decode(content, styles[start:start + per_pass], size)

    def _encode_for(self, images: torch.Tensor, pad: bool):
        self._check(images, self.input_dim, "images")
        if pad:
            padded, size = self._pad(images)
        else:
            if min(images.shape[-2:]) < self.min_size:
                raise MunitError(f"images of {images.shape[-2]}x{images.shape[-1]} are too small to run unpadded: "
                                 f"the model needs at least {self.min_size} pixels a side; drop --no-pad")
            padded, size = images, None
        return self.backend.encode_content(padded), size

    def translate(self, images: torch.Tensor, styles: torch.Tensor, pad: bool = True) -> torch.Tensor:
        """images (B, C_in, H, W) in [-1, 1], styles (K, style_dim) -> (B, K, C_out, H, W) in [-1, 1].

        Content is encoded once per image; the K styles are decoded in one batched pass.
        ``pad=False`` runs the network at the images' own size, as the original does: the
        outputs then lose the rows and columns past a multiple of 2^n_downsample.
        """
        self._check(images, self.input_dim, "images")
        styles = styles.reshape(styles.shape[0], -1)
        if styles.shape[1] != self.style_dim:
            raise MunitError(f"styles must be shaped (K, {self.style_dim}), got {tuple(styles.shape)}")
        content, size = self._encode_for(images, pad)
        outputs = [self.decode(content[i:i + 1], styles, size) for i in range(content.shape[0])]
        return torch.stack(outputs)
