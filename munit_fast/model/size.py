"""The size of a config's networks, known before any weight is allocated."""
from __future__ import annotations

import torch

from munit_fast.config import MunitConfig
from munit_fast.memory import check_fits

from .generator import AdaINGen


def generator_parameters(config: MunitConfig, input_dim: int = 3) -> int:
    """Parameters of one generator, counted on the meta device (nothing is allocated)."""
    with torch.device("meta"):
        return sum(p.numel() for p in AdaINGen(input_dim, config.gen).parameters())


def check_generators_fit(config: MunitConfig, copies: int = 2, device: str = "cpu") -> None:
    """One line naming the model options when ``copies`` fp32 generators cannot be allocated
    (e.g. gen.n_downsample 10 doubles the channels ten times)."""
    count = generator_parameters(config, max(config.input_dim_a, config.input_dim_b))
    check_fits(4 * count * copies, f"the generators of this config ({count / 1e6:.0f} M parameters each)",
               "lower gen.dim, gen.n_downsample, gen.n_res or gen.mlp_dim", device)
