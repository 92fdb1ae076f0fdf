"""The activations that the fused normalization kernels apply in their epilogue."""
from __future__ import annotations

import torch
import torch.nn.functional as F

FUSED_ACTIVATIONS = ("none", "relu", "lrelu")
LRELU_SLOPE = 0.2  # MUNIT's LeakyReLU slope


def apply_activation_ref(x: torch.Tensor, activation: str) -> torch.Tensor:
    if activation == "none":
        return x
    if activation == "relu":
        return F.relu(x)
    if activation == "lrelu":
        return F.leaky_relu(x, LRELU_SLOPE)
    raise ValueError(f"fused activation must be one of {FUSED_ACTIVATIONS}, got {activation!r}")
