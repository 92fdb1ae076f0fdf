"""The Translator: encode content once, decode K styles in one batched pass, any frame size.

Inputs are padded (reflect) to a multiple of 2^n_downsample and the outputs cropped back, so
a 720x1280 frame or an odd-sized photo translates to the same size.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from munit_fast.errors import MunitError

from .styles import random_styles


class Translator:
    def __init__(self, backend):
        self.backend = backend
        self.style_dim = backend.style_dim
        self.multiple = 2 ** backend.n_downsample
        # The residual blocks reflect-pad the content code by 1, which needs >= 2 pixels there.
        self.min_size = 2 * self.multiple
        self.input_dim = backend.input_dim
        self.output_dim = backend.output_dim

    @property
    def name(self) -> str:
        return self.backend.name

    def random_styles(self, count: int, seed: int = 0) -> torch.Tensor:  # -> (count, style_dim)
        return random_styles(count, self.style_dim, seed)

    def style_from_images(self, images: torch.Tensor) -> torch.Tensor:
        """Example-guided styles: (B, C_out, H, W) target-domain images -> (B, style_dim)."""
        self._check(images, self.output_dim, "style images")
        return self.backend.encode_style(images)

    def _check(self, images: torch.Tensor, channels: int, what: str) -> None:
        if images.dim() != 4 or images.shape[1] != channels:
            raise MunitError(f"{what} must be shaped (B, {channels}, H, W), got {tuple(images.shape)}")

    def _pad(self, images: torch.Tensor):
        """Pad bottom/right to a multiple of 2^n_downsample (and the model's minimum size)."""
        h, w = images.shape[-2:]
        pad_h = max((-h) % self.multiple, self.min_size - h)
        pad_w = max((-w) % self.multiple, self.min_size - w)
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
        if pad:
            padded, size = self._pad(images)
        else:
            if min(images.shape[-2:]) < self.min_size:
                raise MunitError(f"images of {images.shape[-2]}x{images.shape[-1]} are too small to run unpadded: "
                                 f"the model needs at least {self.min_size} pixels a side; drop --no-pad")
            padded, size = images, None
        content = self.backend.encode_content(padded)
        outputs = [self.decode(content[i:i + 1], styles, size) for i in range(content.shape[0])]
        return torch.stack(outputs)
