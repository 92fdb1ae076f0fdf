"""VGG-16's convolutions as the original MUNIT's ``Vgg16`` (networks.py), for the perceptual loss.

The original max-pools after stages 1-3 only: conv5_1 reads conv4_3's output at the same
resolution, so relu4_3 and relu5_3 are both at H/8 (torchvision's vgg16 pools once more, which
would put relu5_3 at H/16). Weights come from a file (``munit_fast.training.vgg``).
"""
from __future__ import annotations

import torch.nn as nn
import torch.nn.functional as F

# (name, input channels, output channels) per stage; a 2x2 max-pool follows stages 1-3 only.
STAGES = [
    [("conv1_1", 3, 64), ("conv1_2", 64, 64)],
    [("conv2_1", 64, 128), ("conv2_2", 128, 128)],
    [("conv3_1", 128, 256), ("conv3_2", 256, 256), ("conv3_3", 256, 256)],
    [("conv4_1", 256, 512), ("conv4_2", 512, 512), ("conv4_3", 512, 512)],
    [("conv5_1", 512, 512), ("conv5_2", 512, 512), ("conv5_3", 512, 512)],
]
POOLED_STAGES = 3  # the original pools after conv1_2, conv2_2 and conv3_3, never after conv4_3


class Vgg16Features(nn.Module):
    """VGG-16 convolutions up to relu4_3 or relu5_3, frozen."""

    def __init__(self, last_layer: str = "relu5_3"):
        super().__init__()
        stages = 4 if last_layer == "relu4_3" else 5
        self.convs = nn.ModuleDict()
        for stage in STAGES[:stages]:
            for name, cin, cout in stage:
                self.convs[name] = nn.Conv2d(cin, cout, 3, 1, 1)
        self.stages = stages
        self.requires_grad_(False)

    def forward(self, x):  # (B, 3, H, W) BGR minus means, [0, 255] -> (B, 512, H/8, W/8)
        for i, stage in enumerate(STAGES[:self.stages]):
            if 0 < i <= POOLED_STAGES:
                x = F.max_pool2d(x, 2, 2)
            for name, _, _ in stage:
                x = F.relu(self.convs[name](x))
        return x
