"""Choosing between the Triton kernels and the PyTorch reference for one call.

``impl`` is ``"auto"`` (Triton on CUDA tensors when Triton imports and nothing is being
exported or traced, the reference otherwise), ``"triton"`` or ``"ref"``. The environment
variable ``MUNIT_FAST_KERNELS=ref|triton`` overrides ``"auto"`` for debugging.
"""
from __future__ import annotations

import functools
import os

import torch

from munit_fast.errors import MunitError

from .utils import triton_interpreting

IMPLS = ("auto", "triton", "ref")
ENV_VAR = "MUNIT_FAST_KERNELS"


@functools.lru_cache(maxsize=None)
def triton_available() -> bool:
    """True when Triton imports (on CUDA machines, or on CPU under TRITON_INTERPRET=1)."""
    try:
        import triton  # noqa: F401
        import triton.language  # noqa: F401
    except Exception:
        return False
    return True


def tracing() -> bool:
    """Tracing or compiling, which covers both ONNX exporters: the TorchScript one traces
    (jit tracing) and the dynamo one runs torch.export (compiling). torch.onnx's own check costs
    more host time than the rest of this function together, on every kernel call."""
    return torch.jit.is_tracing() or torch.compiler.is_compiling()


def resolve_impl(impl: str, x: torch.Tensor) -> str:
    """Return ``"triton"`` or ``"ref"`` for a call on tensor ``x``."""
    if impl not in IMPLS:
        raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
    if impl == "auto":
        impl = os.environ.get(ENV_VAR, "auto")
        if impl not in IMPLS:
            raise MunitError(f"environment variable {ENV_VAR}={impl!r}: set it to one of {'|'.join(IMPLS)} or unset it")
    if tracing():
        return "ref"  # exports and torch.compile see standard operators only
    if impl == "ref":
        return "ref"
    usable = triton_available() and (x.is_cuda or triton_interpreting())
    if impl == "triton":
        if not usable:
            raise MunitError(
                f"kernel impl 'triton' needs Triton and a CUDA tensor, got a {x.device.type} tensor"
                f"{'' if triton_available() else ' and no Triton'}; use impl 'auto' to fall back to the reference"
            )
        return "triton"
    return "triton" if usable and x.is_cuda else "ref"


def needs_autograd(*tensors) -> bool:
    """True when a call must record its backward (grad mode on and an input requires grad);
    otherwise the kernels run without an ``autograd.Function`` (less host time per call)."""
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


def kernels_run_on(device: torch.device, impl: str = "auto") -> bool:
    """True when calls with ``impl`` on tensors on ``device`` run the Triton kernels
    (``resolve_impl``'s answer; "triton" where Triton cannot run is its one-line error)."""
    return resolve_impl(impl, torch.empty(0, device=device)) == "triton"
