"""The original weight initialisations (``init``: gaussian | kaiming | xavier | orthogonal | default)."""
from __future__ import annotations

import math

import torch.nn as nn
from torch.nn import init


def init_weights(module: nn.Module, init_type: str) -> None:
    """Initialise every Conv/Linear weight below ``module`` (post-order, as ``Module.apply``)
    and zero its bias; spectral-norm wrapped layers keep their weights as the original does."""

    def init_one(m: nn.Module) -> None:
        if not isinstance(m, (nn.Conv2d, nn.Linear)) or "weight" not in m._parameters:
            return
        if init_type == "gaussian":
            init.normal_(m.weight.data, 0.0, 0.02)
        elif init_type == "xavier":
            init.xavier_normal_(m.weight.data, gain=math.sqrt(2))
        elif init_type == "kaiming":
            init.kaiming_normal_(m.weight.data, a=0, mode="fan_in")
        elif init_type == "orthogonal":
            init.orthogonal_(m.weight.data, gain=math.sqrt(2))
        elif init_type != "default":
            raise ValueError(f"unsupported init {init_type!r}")
        if m.bias is not None:
            init.constant_(m.bias.data, 0.0)

    module.apply(init_one)
