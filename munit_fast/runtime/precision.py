"""Device and precision choices for inference, checked with one-line errors."""
from __future__ import annotations

import torch
import torch.nn as nn

from munit_fast.errors import MunitError

PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise MunitError(f"--device {device!r}: expected cpu, cuda, cuda:N or auto") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise MunitError(f"--device {device}: CUDA is not available on this machine; use --device cpu")
    if dev.type not in ("cpu", "cuda"):
        raise MunitError(f"--device {device!r}: expected cpu, cuda, cuda:N or auto")
    return dev


def resolve_dtype(precision: str, device: torch.device) -> torch.dtype:
    if precision not in PRECISIONS:
        raise MunitError(f"--precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
    dtype = PRECISIONS[precision]
    if dtype == torch.bfloat16 and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise MunitError("--precision bf16: this GPU has no bf16 support; use --precision fp16")
    return dtype


def cast_convolutions(module: nn.Module, dtype: torch.dtype) -> nn.Module:
    """Cast only the convolutions to ``dtype``: they are the compute; normalization parameters,
    the style MLP and all statistics stay fp32 (AdaIN scales are sensitive to rounding)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            m.to(dtype)
    return module
