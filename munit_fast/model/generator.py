"""The MUNIT generator of one domain: style encoder, content encoder, AdaIN decoder and MLP.

Module names follow the original ``AdaINGen`` so that ``state_dict()`` keys are identical to
original checkpoints. AdaIN parameters flow through ``decode`` as tensors, so one set of
weights decodes a batch of different styles (and one content map with K styles) in one pass.
"""
from __future__ import annotations

from typing import List, Tuple

import torch
import torch.nn as nn

from munit_fast.config import GenConfig
from munit_fast.errors import MunitError

from .blocks import AdaptiveInstanceNorm2d, Conv2dBlock, LinearBlock, ResBlocks

AdaINParams = List[Tuple[Tuple[torch.Tensor, torch.Tensor], Tuple[torch.Tensor, torch.Tensor]]]


class StyleEncoder(nn.Module):
    """conv7x7, 2 x conv4x4 s2 doubling, (n_downsample - 2) x conv4x4 s2, global pool, conv1x1."""

    def __init__(self, n_downsample, input_dim, dim, style_dim, norm, activ, pad_type):
        super().__init__()
        layers = [Conv2dBlock(input_dim, dim, 7, 1, 3, norm=norm, activation=activ, pad_type=pad_type)]
        for _ in range(2):
            layers.append(Conv2dBlock(dim, 2 * dim, 4, 2, 1, norm=norm, activation=activ, pad_type=pad_type))
            dim *= 2
        for _ in range(n_downsample - 2):
            layers.append(Conv2dBlock(dim, dim, 4, 2, 1, norm=norm, activation=activ, pad_type=pad_type))
        layers.append(nn.AdaptiveAvgPool2d(1))
        layers.append(nn.Conv2d(dim, style_dim, 1, 1, 0))
        self.model = nn.Sequential(*layers)
        self.output_dim = dim

    def forward(self, x):  # (B, C_in, H, W) -> (B, style_dim, 1, 1)
        return self.model(x)


class ContentEncoder(nn.Module):
    """conv7x7 + IN, n_downsample x conv4x4 s2 + IN, n_res residual blocks with IN."""

    def __init__(self, n_downsample, n_res, input_dim, dim, norm, activ, pad_type):
        super().__init__()
        layers = [Conv2dBlock(input_dim, dim, 7, 1, 3, norm=norm, activation=activ, pad_type=pad_type)]
        for _ in range(n_downsample):
            layers.append(Conv2dBlock(dim, 2 * dim, 4, 2, 1, norm=norm, activation=activ, pad_type=pad_type))
            dim *= 2
        layers.append(ResBlocks(n_res, dim, norm=norm, activation=activ, pad_type=pad_type))
        self.model = nn.Sequential(*layers)
        self.output_dim = dim

    def forward(self, x):  # (B, C_in, H, W) -> (B, dim * 2^n_downsample, H / 2^n, W / 2^n)
        return self.model(x)


class Decoder(nn.Module):
    """n_res AdaIN residual blocks, n_upsample x (nearest x2, conv5x5 + LayerNorm), conv7x7 + tanh."""

    def __init__(self, n_upsample, n_res, dim, output_dim, res_norm="adain", activ="relu", pad_type="zero"):
        super().__init__()
        layers: List[nn.Module] = [ResBlocks(n_res, dim, res_norm, activ, pad_type=pad_type)]
        for _ in range(n_upsample):
            layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
            layers.append(Conv2dBlock(dim, dim // 2, 5, 1, 2, norm="ln", activation=activ, pad_type=pad_type))
            dim //= 2
        layers.append(Conv2dBlock(dim, output_dim, 7, 1, 3, norm="none", activation="tanh", pad_type=pad_type))
        self.model = nn.Sequential(*layers)

    def adain_layers(self) -> List[AdaptiveInstanceNorm2d]:
        return [m for m in self.modules() if isinstance(m, AdaptiveInstanceNorm2d)]

    def num_adain_params(self) -> int:
        return sum(2 * m.num_features for m in self.adain_layers())

    def split_adain_params(self, params: torch.Tensor) -> AdaINParams:
        """Slice the MLP output (B, P) into per-block [(scale, bias) conv 1, (scale, bias) conv 2].

        The original layout: walk the AdaIN layers in module order; each takes 2*C values,
        the first C its bias ("mean"), the next C its scale ("std").
        """
        per_layer = []
        offset = 0
        for layer in self.adain_layers():
            c = layer.num_features
            bias = params[:, offset:offset + c]
            scale = params[:, offset + c:offset + 2 * c]
            per_layer.append((scale, bias))
            offset += 2 * c
        return [(per_layer[2 * i], per_layer[2 * i + 1]) for i in range(len(per_layer) // 2)]

    def forward_res_blocks(self, content, adain_params: torch.Tensor):
        # content: (B or 1, C, h, w); adain_params: (B, P) -> (B, C, h, w)
        res_blocks: ResBlocks = self.model[0]
        params = self.split_adain_params(adain_params)
        x = content
        styles = adain_params.shape[0]
        for i, block in enumerate(res_blocks.model):
            first = None
            if i == 0 and x.shape[0] != styles:
                # One content map, K styles: the first conv precedes any style-dependent op,
                # so it runs once and its output is shared by all K styles.
                first = block.model[0].convolve(x)
                first = first.expand(styles, *first.shape[1:])
            x = block(x, params[i], first_conv_output=first)
        return x

    def forward(self, content, adain_params: torch.Tensor):
        # content: (B or 1, C, h, w); adain_params: (B, P) -> images (B, C_out, h * 2^n, w * 2^n)
        x = self.forward_res_blocks(content, adain_params)
        for layer in list(self.model)[1:]:
            x = layer(x)
        return x


class MLP(nn.Module):
    def __init__(self, input_dim, output_dim, dim, n_blk, norm="none", activ="relu"):
        super().__init__()
        layers = [LinearBlock(input_dim, dim, norm=norm, activation=activ)]
        for _ in range(n_blk - 2):
            layers.append(LinearBlock(dim, dim, norm=norm, activation=activ))
        layers.append(LinearBlock(dim, output_dim, norm="none", activation="none"))
        self.model = nn.Sequential(*layers)

    def forward(self, x):  # (B, style_dim[, 1, 1]) -> (B, output_dim)
        return self.model(x.reshape(x.shape[0], -1))


class AdaINGen(nn.Module):
    """One domain's generator: ``encode(x) -> (content, style)``, ``decode(content, style) -> x``."""

    def __init__(self, input_dim: int, params: GenConfig):
        super().__init__()
        self.input_dim = input_dim
        self.style_dim = params.style_dim
        self.n_downsample = params.n_downsample
        self.enc_style = StyleEncoder(4, input_dim, params.dim, params.style_dim, norm="none",
                                      activ=params.activ, pad_type=params.pad_type)
        self.enc_content = ContentEncoder(params.n_downsample, params.n_res, input_dim, params.dim, "in",
                                          params.activ, pad_type=params.pad_type)
        self.dec = Decoder(params.n_downsample, params.n_res, self.enc_content.output_dim, input_dim,
                           res_norm="adain", activ=params.activ, pad_type=params.pad_type)
        self.mlp = MLP(params.style_dim, self.dec.num_adain_params(), params.mlp_dim, 3, norm="none",
                       activ=params.activ)

    @property
    def content_dim(self) -> int:
        return self.enc_content.output_dim

    def set_kernel_impl(self, impl: str) -> "AdaINGen":
        """Route every normalization through the Triton kernels ("triton"), the PyTorch
        reference ("ref") or whichever can run ("auto")."""
        set_kernel_impl(self, impl)
        return self

    def _check_images(self, x: torch.Tensor) -> None:
        if x.dim() != 4 or x.shape[1] != self.input_dim:
            raise MunitError(
                f"images must be shaped (B, {self.input_dim}, H, W) for this generator, got {tuple(x.shape)}"
            )

    def forward(self, images):
        content, style = self.encode(images)
        return self.decode(content, style)

    def encode(self, images):  # (B, C_in, H, W) -> content (B, C, h, w), style (B, style_dim, 1, 1)
        return self.encode_content(images), self.encode_style(images)

    def encode_content(self, images):
        self._check_images(images)
        return self.enc_content(images)

    def encode_style(self, images):
        self._check_images(images)
        return self.enc_style(images)

    def decode(self, content, style):
        # content: (B or 1, C, h, w); style: (B, style_dim) or (B, style_dim, 1, 1)
        if content.dim() != 4 or content.shape[1] != self.content_dim:
            raise MunitError(f"content must be shaped (B, {self.content_dim}, h, w), got {tuple(content.shape)}")
        if style.dim() not in (2, 4) or style.shape[1] != self.style_dim or style[0].numel() != self.style_dim:
            raise MunitError(
                f"style must be shaped (B, {self.style_dim}) or (B, {self.style_dim}, 1, 1), got {tuple(style.shape)}"
            )
        b_content, b_style = content.shape[0], style.shape[0]
        if b_content != b_style:
            if b_style == 1:
                style = style.expand(b_content, *style.shape[1:])
            elif b_content != 1:
                raise MunitError(
                    f"content batch {b_content} and style batch {b_style} differ; pass equal batches, "
                    "or one content map with K styles, or K content maps with one style"
                )
        return self.dec(content, self.mlp(style))


def set_kernel_impl(module: nn.Module, impl: str) -> None:
    """Set ``impl`` ("auto" | "triton" | "ref") on every kernel layer below ``module``: the
    padding and normalization layers of ``blocks.KERNEL_LAYERS``."""
    from munit_fast.kernels import IMPLS

    from .blocks import KERNEL_LAYERS

    if impl not in IMPLS:
        raise MunitError(f"kernel impl must be one of {'/'.join(IMPLS)}, got {impl!r}")
    for m in module.modules():
        if isinstance(m, KERNEL_LAYERS):
            m.impl = impl
