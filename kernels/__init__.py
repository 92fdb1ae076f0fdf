"""Fused normalization and padding kernels (Triton on CUDA, PyTorch reference elsewhere).

Each op lives in its own file (adain, instance_norm, layer_norm) with its autograd.Function,
public function and reference. The Triton kernels the three share are split by job:
``norm_fused`` (one pass over short rows), ``norm_split`` (split reduction over long rows and
the kernels that finalize its sums) and ``norm_elementwise`` (the elementwise passes with
known statistics); ``utils`` holds the helpers every kernel file uses.
``pad`` holds the reflection/replication padding before each convolution, forward and
backward (training pads with the kernel too).
``impl="auto"|"triton"|"ref"`` and the ``MUNIT_FAST_KERNELS`` environment variable choose the
path (see ``dispatch``). Triton is optional: without it every call runs the reference.
"""
from .activation import FUSED_ACTIVATIONS
from .adain import adain, adain_ref
from .dispatch import IMPLS, resolve_impl, triton_available
from .instance_norm import instance_norm, instance_norm_ref
from .layer_norm import layer_norm, layer_norm_ref
from .pad import pad2d, pad2d_ref

__all__ = [
    "FUSED_ACTIVATIONS", "IMPLS", "adain", "adain_ref", "instance_norm", "instance_norm_ref",
    "layer_norm", "layer_norm_ref", "pad2d", "pad2d_ref", "resolve_impl", "triton_available",
]
