"""The multi-scale discriminator (original ``MsImageDis``), key-compatible."""
from __future__ import annotations

from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F

from munit_fast.config import DisConfig

from .blocks import Conv2dBlock


class MsImageDis(nn.Module):
    """num_scales identical CNNs on the image, its 2x average-pooled copy, and so on."""

    def __init__(self, input_dim: int, params: DisConfig):
        super().__init__()
        self.n_layer = params.n_layer
        self.gan_type = params.gan_type
        self.dim = params.dim
        self.norm = params.norm
        self.activ = params.activ
        self.num_scales = params.num_scales
        self.pad_type = params.pad_type
        self.input_dim = input_dim
        self.downsample = nn.AvgPool2d(3, stride=2, padding=[1, 1], count_include_pad=False)
        self.cnns = nn.ModuleList([self._make_net() for _ in range(self.num_scales)])

    def _make_net(self) -> nn.Sequential:
        dim = self.dim
        layers = [Conv2dBlock(self.input_dim, dim, 4, 2, 1, norm="none", activation=self.activ, pad_type=self.pad_type)]
        for _ in range(self.n_layer - 1):
            layers.append(Conv2dBlock(dim, dim * 2, 4, 2, 1, norm=self.norm, activation=self.activ,
                                      pad_type=self.pad_type))
            dim *= 2
        layers.append(nn.Conv2d(dim, 1, 1, 1, 0))
        return nn.Sequential(*layers)

    def forward(self, x) -> List[torch.Tensor]:  # (B, C, H, W) -> [(B, 1, H/2^n_layer, W/2^n_layer), ...]
        outputs = []
        for model in self.cnns:
            outputs.append(model(x))
            x = self.downsample(x)
        return outputs

    def calc_dis_loss(self, input_fake, input_real):
        """LSGAN: sum over scales of mean(D(fake)^2) + mean((D(real) - 1)^2); NSGAN: BCE on sigmoid."""
        loss = 0
        for out0, out1 in zip(self.forward(input_fake), self.forward(input_real)):
            if self.gan_type == "lsgan":
                loss = loss + torch.mean((out0 - 0) ** 2) + torch.mean((out1 - 1) ** 2)
            else:
                loss = loss + torch.mean(
                    F.binary_cross_entropy(torch.sigmoid(out0), torch.zeros_like(out0))
                    + F.binary_cross_entropy(torch.sigmoid(out1), torch.ones_like(out1))
                )
        return loss

    def calc_gen_loss(self, input_fake):
        """LSGAN: sum over scales of mean((D(fake) - 1)^2); NSGAN: BCE of sigmoid(D(fake)) against 1."""
        loss = 0
        for out0 in self.forward(input_fake):
            if self.gan_type == "lsgan":
                loss = loss + torch.mean((out0 - 1) ** 2)
            else:
                loss = loss + torch.mean(F.binary_cross_entropy(torch.sigmoid(out0), torch.ones_like(out0)))
        return loss
