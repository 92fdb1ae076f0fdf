"""The exported graphs as small ``nn.Module`` wrappers around one direction's generators.

Each wrapper fixes its inputs and outputs to what a runtime needs:

    translate:       image (B, C_in, H, W), style (B, style_dim) -> image (B, C_out, H, W)
    content_encoder: image (B, C_in, H, W) -> content (B, C, H / 2^n, W / 2^n)
    style_encoder:   image (B, C_out, H, W) -> style (B, style_dim)
    decoder:         content (1 or K, C, h, w), style (K, style_dim) -> image (K, C_out, h * 2^n, w * 2^n)

H and W must be multiples of 2^n_downsample (the Translator pads). Inputs and outputs are fp32
in every variant; an fp16 graph casts inside (convolutions fp16, normalization statistics fp32).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Mapping, Tuple

import torch
import torch.nn as nn

from munit_fast.errors import MunitError
from munit_fast.model import AdaINGen
from munit_fast.model.generator import MLP, Decoder

PARTS = ("translate", "content_encoder", "style_encoder", "decoder")
SPLIT_PARTS = ("content_encoder", "style_encoder", "decoder")


@dataclass(frozen=True)
class GraphSignature:
    """Input and output names with their dynamic axes (ONNX dim_param names)."""

    inputs: Tuple[str, ...]
    outputs: Tuple[str, ...]
    dynamic_axes: Dict[str, Dict[int, str]]


SIGNATURES = {
    "translate": GraphSignature(("image", "style"), ("output",), {
        "image": {0: "batch", 2: "height", 3: "width"}, "style": {0: "batch"},
        "output": {0: "batch", 2: "height", 3: "width"}}),
    "content_encoder": GraphSignature(("image",), ("content",), {
        "image": {0: "batch", 2: "height", 3: "width"},
        "content": {0: "batch", 2: "content_height", 3: "content_width"}}),
    "style_encoder": GraphSignature(("image",), ("style",), {
        "image": {0: "batch", 2: "height", 3: "width"}, "style": {0: "batch"}}),
    "decoder": GraphSignature(("content", "style"), ("output",), {
        "content": {0: "content_batch", 2: "content_height", 3: "content_width"}, "style": {0: "styles"},
        "output": {0: "styles", 2: "height", 3: "width"}}),
}


@dataclass(frozen=True)
class SplitGraphsInfo:
    """What a runtime needs of one export's split graphs, from their munit-fast metadata."""

    style_dim: int
    n_downsample: int
    input_dim: int
    output_dim: int
    content_dim: int
    precision: str


SAME_EXPORT_KEYS = ("direction", "precision", "weights_sha256")  # equal in every part of one export


def split_graphs_info(metadata: Mapping[str, Mapping[str, str]], paths: Mapping[str, str],
                      what: str) -> SplitGraphsInfo:
    """The decoder's shapes and precision, after checking that every part of ``metadata`` ({part:
    its munit-fast metadata}) comes from the same export as the decoder; ``what`` names the files
    in the error ("ONNX graphs", "OpenVINO IR")."""
    meta = metadata["decoder"]
    for part, other in metadata.items():
        if any(other.get(key) != meta.get(key) for key in SAME_EXPORT_KEYS):
            raise MunitError(f"{what} {paths[part]} and {paths['decoder']} come from different exports "
                             "(direction, precision or weights differ); export them together")
    return SplitGraphsInfo(int(meta["style_dim"]), int(meta["n_downsample"]), int(meta["input_dim"]),
                           int(meta["output_dim"]), int(meta["content_dim"]), meta["precision"])


class _Graph(nn.Module):
    def __init__(self, dtype: torch.dtype):
        super().__init__()
        self.dtype = dtype

    def _in(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(self.dtype)


class ContentEncoderGraph(_Graph):
    def __init__(self, gen: AdaINGen, dtype: torch.dtype = torch.float32):
        super().__init__(dtype)
        self.enc = gen.enc_content

    def forward(self, image):  # (B, C_in, H, W) fp32 -> (B, C, h, w) fp32
        return self.enc(self._in(image)).float()


class StyleEncoderGraph(_Graph):
    def __init__(self, gen: AdaINGen, dtype: torch.dtype = torch.float32):
        super().__init__(dtype)
        self.enc = gen.enc_style

    def forward(self, image):  # (B, C_out, H, W) fp32 -> (B, style_dim) fp32
        style = self.enc(self._in(image)).float()
        return style.flatten(1)


def broadcast_batch(x: torch.Tensor, count) -> torch.Tensor:
    """(1 or count, ...) -> (count, ...) as a Gather with indices arange(count) % batch.

    Unlike Expand, the exported Gather keeps the channel count static, which ONNX's
    InstanceNormalization needs; it repeats a batch of 1 and leaves a batch of ``count`` as is.
    """
    index = torch.arange(count, device=x.device) % x.shape[0]
    return x[index]


def decode_shared_content(dec: Decoder, mlp: MLP, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """content (1 or K, C, h, w), style (K, style_dim) -> (K, C_out, H, W).

    The first convolution precedes every style-dependent op, so it runs on the content batch as
    given and is broadcast to K afterwards: one graph serves one content map with K styles and
    K content maps with K styles.
    """
    adain_params = mlp(style.float())  # (K, P), fp32: AdaIN scales are sensitive to rounding
    params = dec.split_adain_params(adain_params)
    blocks = dec.model[0].model
    styles = adain_params.shape[0]
    first = broadcast_batch(blocks[0].model[0].convolve(content), styles)
    x = blocks[0](broadcast_batch(content, styles), params[0], first_conv_output=first)
    for block, block_params in zip(list(blocks)[1:], params[1:]):
        x = block(x, block_params)
    for layer in list(dec.model)[1:]:
        x = layer(x)
    return x


class DecoderGraph(_Graph):
    def __init__(self, gen: AdaINGen, dtype: torch.dtype = torch.float32):
        super().__init__(dtype)
        self.dec = gen.dec
        self.mlp = gen.mlp

    def forward(self, content, style):  # (1 or K, C, h, w), (K, style_dim) -> (K, C_out, H, W) fp32
        return decode_shared_content(self.dec, self.mlp, self._in(content), style).float()


class TranslateGraph(_Graph):
    """Source content encoder + target decoder: one image and one style per batch entry."""

    def __init__(self, source: AdaINGen, target: AdaINGen, dtype: torch.dtype = torch.float32):
        super().__init__(dtype)
        self.enc = source.enc_content
        self.dec = target.dec
        self.mlp = target.mlp

    def forward(self, image, style):  # (B, C_in, H, W), (B, style_dim) -> (B, C_out, H, W) fp32
        content = self.enc(self._in(image))
        return decode_shared_content(self.dec, self.mlp, content, style).float()


def build_graph(part: str, source: AdaINGen, target: AdaINGen, dtype: torch.dtype = torch.float32) -> nn.Module:
    """The wrapper for ``part``: the content encoder is the source domain's, the rest the target's."""
    if part == "translate":
        return TranslateGraph(source, target, dtype)
    if part == "content_encoder":
        return ContentEncoderGraph(source, dtype)
    if part == "style_encoder":
        return StyleEncoderGraph(target, dtype)
    if part == "decoder":
        return DecoderGraph(target, dtype)
    raise ValueError(f"unknown graph part {part!r}; expected one of {', '.join(PARTS)}")


def example_inputs(part: str, source: AdaINGen, target: AdaINGen, height: int = 64, width: int = 64,
                   styles: int = 2) -> Tuple[torch.Tensor, ...]:
    """Trace inputs. The decoder is traced with content batch 1 and ``styles`` > 1 so that its
    broadcast is recorded as an Expand, not folded into a constant shape."""
    scale = 2 ** source.n_downsample
    if part == "translate":
        return torch.randn(styles, source.input_dim, height, width), torch.randn(styles, target.style_dim)
    if part == "content_encoder":
        return (torch.randn(styles, source.input_dim, height, width),)
    if part == "style_encoder":
        return (torch.randn(styles, target.input_dim, height, width),)
    if part == "decoder":
        return (torch.randn(1, target.content_dim, height // scale, width // scale),
                torch.randn(styles, target.style_dim))
    raise ValueError(f"unknown graph part {part!r}")
