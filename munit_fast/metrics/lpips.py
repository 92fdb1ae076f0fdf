"""LPIPS distance (Zhang et al., CVPR 2018) on AlexNet features, in plain PyTorch, from local files.

    d(x, y) = sum_l mean_{h,w} sum_c w_l[c] * (n_l(x) - n_l(y))[c, h, w]^2

with n_l the channel-normalised (unit L2 norm over channels, eps 1e-10) ReLU output of AlexNet
conv layer l (5 layers), inputs first scaled by LPIPS's fixed shift/scale, and w_l >= 0 the
learned linear weights. Inputs are images in [-1, 1].

Nothing is downloaded: the user names two files (see `MISSING_HINT`) — torchvision's AlexNet
ImageNet state dict (only ``features.*`` is used) and the LPIPS v0.1 linear layers
(``lin0.model.1.weight`` .. ``lin4.model.1.weight``).
"""
from __future__ import annotations

import os
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from munit_fast.checkpoint import load_file
from munit_fast.errors import MunitError

MISSING_HINT = (
    "LPIPS needs two local files: --lpips-alexnet = torchvision's AlexNet ImageNet weights "
    "(https://download.pytorch.org/models/alexnet-owt-7be5be79.pth) and --lpips-linear = LPIPS v0.1 "
    "AlexNet linear layers (alex.pth from https://github.com/richzhang/PerceptualSimilarity, "
    "lpips/weights/v0.1/alex.pth); download both once and pass their paths"
)
# torchvision AlexNet `features` indices of the five conv layers, and their channels.
CONV_INDICES = (0, 3, 6, 8, 10)
CHANNELS = (64, 192, 384, 256, 256)
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)


def _alexnet_features() -> nn.Sequential:
    """torchvision's AlexNet ``features`` up to the last ReLU (same indices, so keys load as is)."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(inplace=False), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, 1, 2), nn.ReLU(inplace=False), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, 1, 1), nn.ReLU(inplace=False),
        nn.Conv2d(384, 256, 3, 1, 1), nn.ReLU(inplace=False),
        nn.Conv2d(256, 256, 3, 1, 1), nn.ReLU(inplace=False),
    )


class LPIPS(nn.Module):
    """AlexNet LPIPS v0.1. forward(x (B, 3, H, W), y (B, 3, H, W), both in [-1, 1]) -> (B,) distances."""

    def __init__(self):
        super().__init__()
        self.features = _alexnet_features()
        self.lins = nn.ParameterList([nn.Parameter(torch.zeros(1, c, 1, 1)) for c in CHANNELS])
        self.register_buffer("shift", torch.tensor(_SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(_SCALE).view(1, 3, 1, 1))
        self.requires_grad_(False)

    def _layer_outputs(self, images: torch.Tensor):
        x = (images - self.shift) / self.scale
        outputs = []
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index - 1 in CONV_INDICES:  # the ReLU right after each conv
                outputs.append(x)
        return outputs

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if x.shape != y.shape or x.dim() != 4 or x.shape[1] != 3:
            raise MunitError(f"LPIPS needs two image batches shaped (B, 3, H, W) alike, got {tuple(x.shape)} "
                             f"and {tuple(y.shape)}")
        total = x.new_zeros(x.shape[0])
        for fx, fy, weight in zip(self._layer_outputs(x), self._layer_outputs(y), self.lins):
            nx = fx / (fx.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10)
            ny = fy / (fy.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10)
            total = total + F.conv2d((nx - ny).pow(2), weight).mean(dim=(1, 2, 3))
        return total


def _checked(state, key: str, shape, path: str) -> torch.Tensor:
    if not isinstance(state, dict) or key not in state:
        raise MunitError(f"{path} lacks {key}; {MISSING_HINT}")
    value = state[key]
    if tuple(value.shape) != tuple(shape):
        raise MunitError(f"{path}: {key} has shape {list(value.shape)}, expected {list(shape)}; {MISSING_HINT}")
    return value


def load_lpips(alexnet_path: Optional[str], linear_path: Optional[str]) -> LPIPS:
    """Build AlexNet LPIPS from the two local weight files, or raise a one-line error saying how to get them."""
    for what, path in (("--lpips-alexnet", alexnet_path), ("--lpips-linear", linear_path)):
        if not path:
            raise MunitError(f"{what} not given; {MISSING_HINT}")
        if not os.path.isfile(path):
            raise MunitError(f"{what} {path}: file not found; {MISSING_HINT}")
    alexnet, linear = load_file(alexnet_path), load_file(linear_path)
    model = LPIPS()
    with torch.no_grad():
        for index in CONV_INDICES:
            conv = model.features[index]
            conv.weight.copy_(_checked(alexnet, f"features.{index}.weight", conv.weight.shape, alexnet_path))
            conv.bias.copy_(_checked(alexnet, f"features.{index}.bias", conv.bias.shape, alexnet_path))
        for layer, weight in enumerate(model.lins):
            weight.copy_(_checked(linear, f"lin{layer}.model.1.weight", weight.shape, linear_path))
    return model.eval()


@torch.no_grad()
def lpips_diversity(lpips: LPIPS, outputs: torch.Tensor, pairs: Optional[int] = None) -> float:
    """Mean LPIPS between consecutive translations of one input, (0, 1), (1, 2), ... as the paper's
    19 pairs of 20 samples. outputs (K, 3, H, W) in [-1, 1], K >= 2."""
    if outputs.shape[0] < 2:
        raise MunitError("LPIPS diversity needs at least 2 translations per input (--num-samples >= 2)")
    count = outputs.shape[0] - 1 if pairs is None else min(pairs, outputs.shape[0] - 1)
    return float(lpips(outputs[:count], outputs[1:count + 1]).mean())

