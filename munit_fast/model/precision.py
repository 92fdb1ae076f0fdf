"""Low-precision copies of the networks for inference and export."""
from __future__ import annotations

import torch
import torch.nn as nn


def cast_convolutions(module: nn.Module, dtype: torch.dtype) -> nn.Module:
    """Cast only the convolutions to ``dtype``: they are the compute; normalization parameters,
    the style MLP and all statistics stay fp32 (AdaIN scales are sensitive to rounding)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            m.to(dtype)
    return module
