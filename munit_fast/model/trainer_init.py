"""The four networks built as the original ``MUNIT_Trainer.__init__`` builds them, with its random draws.

The original trainer draws from torch's global CPU generator in this order:

1. PyTorch's default initialisation of gen_a, gen_b, dis_a, dis_b, module by module (LayerNorm
   gammas, convolution and linear weights and biases, spectral-norm u and v);
2. the fixed display styles s_a, s_b, each ``randn(display_size, style_dim, 1, 1)``;
3. the configured ``init`` over all four networks (post-order), then gaussian 0.02 over each
   discriminator;
4. with vgg_w > 0, the default initialisation of its 13-convolution Vgg16 (then overwritten by
   the weights file).

munit-fast's trainer follows this sequence, and so do the style codes of the original's test
scripts, which seed, construct a trainer, then draw: `consume_original_trainer_draws`.
"""
from __future__ import annotations

from typing import Tuple

import torch
import torch.nn as nn

from munit_fast.config import MunitConfig

from .discriminator import MsImageDis
from .generator import AdaINGen
from .init import init_weights
from .vgg16 import Vgg16Features


class TrainerNetworks(nn.Module):
    """gen_a, gen_b, dis_a, dis_b as children in the original trainer's order."""

    def __init__(self, config: MunitConfig):
        super().__init__()
        self.gen_a = AdaINGen(config.input_dim_a, config.gen)
        self.gen_b = AdaINGen(config.input_dim_b, config.gen)
        self.dis_a = MsImageDis(config.input_dim_a, config.dis)
        self.dis_b = MsImageDis(config.input_dim_b, config.dis)


def build_like_original_trainer(config: MunitConfig) -> Tuple[TrainerNetworks, torch.Tensor, torch.Tensor]:
    """Steps 1-3 above: (networks, display_s_a, display_s_b), each style (display_size, style_dim, 1, 1)."""
    networks = TrainerNetworks(config)
    display_s_a = torch.randn(config.display_size, config.gen.style_dim, 1, 1)
    display_s_b = torch.randn(config.display_size, config.gen.style_dim, 1, 1)
    init_weights(networks, config.init)
    init_weights(networks.dis_a, "gaussian")
    init_weights(networks.dis_b, "gaussian")
    return networks, display_s_a, display_s_b


def consume_original_trainer_draws(config: MunitConfig) -> None:
    """Advance torch's global generator exactly as ``MUNIT_Trainer(config)`` does (steps 1-4)."""
    with torch.no_grad():
        build_like_original_trainer(config)
        if config.vgg_w > 0:
            Vgg16Features("relu5_3")
