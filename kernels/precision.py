"""The dtype normalization statistics are computed in: fp32 for fp32/fp16/bf16 inputs, fp64 for fp64."""
from __future__ import annotations

import torch


def statistics_dtype(x: torch.Tensor) -> torch.dtype:
    return torch.float64 if x.dtype == torch.float64 else torch.float32
