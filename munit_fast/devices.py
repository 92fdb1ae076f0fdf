"""Devices and floating-point precisions, checked with one-line errors (inference and training).

``PRECISIONS`` is the one list of precision names; a backend supports some of them (and int8,
which only quantized backends run).
"""
from __future__ import annotations

import warnings
from typing import Optional

import torch

from munit_fast.errors import MunitError

PRECISIONS = ("fp32", "bf16", "fp16", "int8")
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


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
    """The torch dtype of a floating-point precision, checked against the device."""
    if precision not in DTYPES:
        raise MunitError(f"--precision {precision!r}: PyTorch runs one of {', '.join(DTYPES)}")
    check_precision_on_device(precision, device)
    return DTYPES[precision]


def check_precision_on_device(precision: str, device: torch.device) -> None:
    """The device checks inference and training share: bf16 on a GPU without it is a one-line
    error, bf16/fp16 emulated on a CPU a one-line warning."""
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise MunitError("--precision bf16: this GPU has no bf16 support; use --precision fp16")
    warn_if_emulated(precision, device)


# CPU features that run bf16 / fp16 convolutions natively (PyTorch's own CPU capability checks).
NATIVE_CPU_FEATURES = {
    "bf16": (("_is_amx_tile_supported", "AMX"), ("_is_avx512_bf16_supported", "AVX-512 BF16")),
    "fp16": (("_is_amx_fp16_supported", "AMX-FP16"),),
}


def emulated_precision_message(precision: str, device: torch.device) -> Optional[str]:
    """Why ``precision`` would run emulated on this CPU (far slower than fp32), or None when it
    runs natively, is fp32, is on a GPU, or this PyTorch cannot tell."""
    if device.type != "cpu" or precision not in NATIVE_CPU_FEATURES:
        return None
    checks = [(getattr(torch.cpu, name, None), feature) for name, feature in NATIVE_CPU_FEATURES[precision]]
    if any(check is None for check, _ in checks) or any(check() for check, _ in checks):
        return None
    features = [feature for _, feature in checks]
    missing = f"neither {features[0]} nor {features[1]}" if len(features) == 2 else f"no {features[0]}"
    return (f"--precision {precision} runs emulated on this CPU (it has {missing}): expect it to be many "
            f"times slower than fp32 (docs/benchmarks.md has the measurements); use --precision fp32 here")


def warn_if_emulated(precision: str, device: torch.device) -> None:
    message = emulated_precision_message(precision, device)
    if message:
        warnings.warn(message, stacklevel=3)
