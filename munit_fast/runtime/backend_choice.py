"""``--backend auto``: the fastest backend this machine can run, and why."""
from __future__ import annotations

import importlib.util
from typing import Optional

import torch

BACKEND_CHOICES = ("auto", "eager", "triton", "compile", "onnx", "tensorrt")


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def choose_backend(requested: str, device: str, engine_dir: Optional[str] = None) -> tuple:
    """-> (backend name, reason shown to the user). A named backend passes through unchanged.

    auto on CUDA: TensorRT when engines are given (``--engine-dir``; building them takes
    minutes, so auto never starts that) and the tensorrt package is installed; else the Triton
    kernels; else eager. auto on CPU: eager (torch.compile needs a C++ toolchain and a long
    warm-up, and the Triton kernels only run interpreted on CPU)."""
    if requested != "auto":
        return requested, "as requested"
    cuda = torch.cuda.is_available() and device != "cpu"
    if cuda and engine_dir and _importable("tensorrt"):
        return "tensorrt", f"CUDA, TensorRT and engines in {engine_dir}"
    if cuda and _importable("triton"):
        return "triton", "CUDA and Triton available"
    if cuda:
        return "eager", "CUDA without Triton"
    return "eager", "CPU"
