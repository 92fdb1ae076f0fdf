"""Mixed precision for training: bf16 autocast on CPU and GPU, fp16 autocast with gradient
scalers on GPU. The AdaIN, instance-norm and LayerNorm statistics are computed in fp32 by
munit_fast.kernels whatever the autocast dtype; every loss is reduced in fp32."""
from __future__ import annotations

import contextlib

import torch

from munit_fast.devices import DTYPES, check_precision_on_device
from munit_fast.errors import MunitError


def check_precision(precision: str, device: torch.device) -> None:
    if precision not in DTYPES:
        raise MunitError(f"--precision {precision!r}: training runs one of {', '.join(DTYPES)}")
    if precision == "fp16" and device.type != "cuda":
        raise MunitError("--precision fp16 needs a CUDA GPU (fp16 training uses a gradient scaler); "
                         "use --precision bf16 on CPU")
    check_precision_on_device(precision, device)


def autocast(precision: str, device: torch.device):
    """The forward-pass context for ``precision`` (a no-op for fp32)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def make_scaler(precision: str, device: torch.device):
    """A GradScaler for fp16 (loss scaling against fp16 gradient underflow), else None."""
    if precision != "fp16":
        return None
    return torch.amp.GradScaler(device.type)
