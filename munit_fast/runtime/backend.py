"""The contract every inference backend keeps, so that the Translator, the video pipeline and
the cross-validation helper never care which one runs.

A backend runs one direction of a model: the source generator's content encoder, the target
generator's style encoder, its style MLP and its decoder. Inputs and outputs are fp32 torch
tensors in [-1, 1] whatever the backend computes in.
"""
from __future__ import annotations

from typing import Protocol, Union, runtime_checkable

import torch

from munit_fast.errors import MunitError


@runtime_checkable
class Backend(Protocol):
    name: str  # e.g. "eager-fp32", "onnx-cpu-fp32", "openvino-CPU-int8": shown to the user
    device: Union[torch.device, str]  # a torch device, or the runtime's own device name ("GPU", "NPU")
    precision: str  # one of munit_fast.devices.PRECISIONS
    style_dim: int
    n_downsample: int
    input_dim: int  # channels of the source domain
    output_dim: int  # channels of the target domain
    content_dim: int  # channels of the content code (gen.dim * 2^n_downsample)

    def encode_content(self, images: torch.Tensor) -> torch.Tensor:
        """images (B, input_dim, H, W), H and W multiples of 2^n_downsample
        -> content (B, content_dim, H / 2^n, W / 2^n)."""

    def encode_style(self, images: torch.Tensor) -> torch.Tensor:
        """target-domain images (B, output_dim, H, W) -> styles (B, style_dim)."""

    def decode(self, content: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        """content (1 or K, content_dim, h, w), styles (K, style_dim) -> images (K, output_dim,
        h * 2^n, w * 2^n): one content map decodes with K styles in one call."""


def decode_inputs(content: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
    """The styles of a `Backend.decode` call as (K, style_dim), after checking that ``content`` is
    (1 or K, C, h, w): the check every backend running exported graphs needs before its decoder."""
    styles = styles.reshape(styles.shape[0], -1)
    if content.shape[0] not in (1, styles.shape[0]):
        raise MunitError(f"content batch {content.shape[0]} and style batch {styles.shape[0]} differ; "
                         "pass one content map with K styles or K of each")
    return styles
