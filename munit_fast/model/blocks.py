"""The original MUNIT building blocks, with the original module names (so state-dict keys
match original checkpoints) and fused normalization + activation + residual epilogues.

A ``Conv2dBlock`` is pad -> conv (no internal padding) -> norm -> activation, registered in
the original's order (pad, norm, activation, conv) so that even the key order matches.
Normalization layers take their per-call parameters (AdaIN scale/bias) as arguments: no
module state is assigned during a forward pass.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from munit_fast import kernels
from munit_fast.kernels.activation import FUSED_ACTIVATIONS
from munit_fast.kernels.dispatch import needs_autograd, resolve_impl

from .spectral_norm import SpectralNorm


def make_activation(name: str) -> Optional[nn.Module]:
    if name == "relu":
        return nn.ReLU(inplace=False)
    if name == "lrelu":
        return nn.LeakyReLU(0.2, inplace=False)
    if name == "prelu":
        return nn.PReLU()
    if name == "selu":
        return nn.SELU(inplace=False)
    if name == "tanh":
        return nn.Tanh()
    if name == "none":
        return None
    raise ValueError(f"unsupported activation {name!r}")


class ReflectionPad2d(nn.ReflectionPad2d):
    """nn.ReflectionPad2d through the padding kernel (``kernels.pad2d``) where it applies."""

    def __init__(self, padding):
        super().__init__(padding)
        self.impl = "auto"  # "auto" | "triton" | "ref", set per layer by set_kernel_impl

    def forward(self, x):  # (B, C, H, W) -> (B, C, H + top + bottom, W + left + right)
        return kernels.pad2d(x, self.padding, "reflect", self.impl)


class ReplicationPad2d(nn.ReplicationPad2d):
    """nn.ReplicationPad2d through the padding kernel (``kernels.pad2d``) where it applies."""

    def __init__(self, padding):
        super().__init__(padding)
        self.impl = "auto"

    def forward(self, x):  # (B, C, H, W) -> (B, C, H + top + bottom, W + left + right)
        return kernels.pad2d(x, self.padding, "replicate", self.impl)


def make_pad(pad_type: str, padding: int) -> nn.Module:
    if pad_type == "reflect":
        return ReflectionPad2d(padding)
    if pad_type == "replicate":
        return ReplicationPad2d(padding)
    if pad_type == "zero":
        return nn.ZeroPad2d(padding)
    raise ValueError(f"unsupported pad type {pad_type!r}")


class AdaptiveInstanceNorm2d(nn.Module):
    """AdaIN whose scale and bias come from the style MLP at call time.

    The running_mean/running_var buffers exist only because original checkpoints carry them;
    they are never read or updated (the original never updated them either).
    """

    def __init__(self, num_features: int, eps: float = 1e-5):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.impl = "auto"
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x, scale, bias, activation="none", residual=None):
        # x: (B or 1, C, H, W); scale, bias: (B, C); residual like x
        return kernels.adain(x, scale, bias, activation, residual, self.eps, self.impl)


class InstanceNorm2d(nn.Module):
    """Instance norm without affine or running statistics (the content encoder's norm)."""

    def __init__(self, num_features: int, eps: float = 1e-5):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.impl = "auto"

    def forward(self, x, activation="none", residual=None):
        return kernels.instance_norm(x, activation, residual, self.eps, self.impl)


class LayerNorm(nn.Module):
    """MUNIT's LayerNorm: per sample over (C, H, W), unbiased std, eps added to the std."""

    def __init__(self, num_features: int, eps: float = 1e-5, affine: bool = True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.affine = affine
        self.impl = "auto"
        if affine:
            self.gamma = nn.Parameter(torch.empty(num_features).uniform_())
            self.beta = nn.Parameter(torch.zeros(num_features))

    def forward(self, x, activation="none"):
        if x.dim() != 4:  # LinearBlock use: (B, C)
            y = kernels.layer_norm_ref(x[:, :, None, None], self._gamma(x), self._beta(x), activation, self.eps)
            return y[:, :, 0, 0]
        return kernels.layer_norm(x, self._gamma(x), self._beta(x), activation, self.eps, self.impl)

    def _gamma(self, x):
        return self.gamma if self.affine else x.new_ones(x.shape[1])

    def _beta(self, x):
        return self.beta if self.affine else x.new_zeros(x.shape[1])


# The layers that choose between a Triton kernel and its PyTorch reference: each holds that
# choice in ``impl`` (a plain attribute, not in the state dict); set_kernel_impl sets it on these.
KERNEL_LAYERS = (ReflectionPad2d, ReplicationPad2d, AdaptiveInstanceNorm2d, InstanceNorm2d, LayerNorm)


def make_norm(name: str, dim: int, one_d: bool = False) -> Optional[nn.Module]:
    if name == "bn":
        return nn.BatchNorm1d(dim) if one_d else nn.BatchNorm2d(dim)
    if name == "in":
        return nn.InstanceNorm1d(dim) if one_d else InstanceNorm2d(dim)
    if name == "ln":
        return LayerNorm(dim)
    if name == "adain":
        return AdaptiveInstanceNorm2d(dim)
    if name in ("none", "sn"):
        return None
    raise ValueError(f"unsupported normalization {name!r}")


class Conv2dBlock(nn.Module):
    """pad -> conv -> norm -> activation (-> + residual), as the original Conv2dBlock."""

    def __init__(self, input_dim, output_dim, kernel_size, stride, padding=0,
                 norm="none", activation="relu", pad_type="zero"):
        super().__init__()
        self.pad = make_pad(pad_type, padding)
        self.norm = make_norm(norm, output_dim)
        self.activation = make_activation(activation)
        conv = nn.Conv2d(input_dim, output_dim, kernel_size, stride, bias=True)
        self.conv = SpectralNorm(conv) if norm == "sn" else conv
        self.activation_name = activation
        self.norm_name = norm

    def convolve(self, x: torch.Tensor) -> torch.Tensor:  # (B, C_in, H, W) -> (B, C_out, H', W')
        x = self.pad(x)
        if self._bias_cancels(x):
            return F.conv2d(x, self.conv.weight, None, self.conv.stride)
        return self.conv(x)

    def _bias_cancels(self, x: torch.Tensor) -> bool:
        """True when the kernel path may leave out the conv bias: an instance norm (or AdaIN)
        follows, which subtracts each (b, c) plane's mean, so a per-channel bias cancels
        exactly and only costs a pass over the output. Inference only: under autograd the
        bias stays in the graph and receives the gradient the original gives it."""
        return (isinstance(self.norm, (InstanceNorm2d, AdaptiveInstanceNorm2d)) and isinstance(self.conv, nn.Conv2d)
                and not needs_autograd(x, self.conv.weight, self.conv.bias)
                and resolve_impl(self.norm.impl, x) == "triton")

    def finish(self, y, residual=None, adain_params=None):
        """norm -> activation -> + residual on the conv output, fused into one kernel where possible.

        y: (B, C, H, W) conv output; residual: (B, C, H, W) or None;
        adain_params: (scale, bias), each (B, C), for AdaIN blocks.
        """
        act = self.activation_name
        fusable = act in FUSED_ACTIVATIONS
        if isinstance(self.norm, AdaptiveInstanceNorm2d):
            if fusable:
                return self.norm(y, *adain_params, act, residual)
            y = self.norm(y, *adain_params)
        elif isinstance(self.norm, InstanceNorm2d):
            if fusable:
                return self.norm(y, act, residual)
            y = self.norm(y)
        elif isinstance(self.norm, LayerNorm):
            if fusable:
                y = self.norm(y, act)
                return y if residual is None else y + residual
            y = self.norm(y)
        elif self.norm is not None:
            y = self.norm(y)
        if self.activation is not None:
            y = self.activation(y)
        return y if residual is None else y + residual

    def forward(self, x, residual=None, adain_params=None):
        return self.finish(self.convolve(x), residual, adain_params)


class LinearBlock(nn.Module):
    """fc -> norm -> activation, as the original LinearBlock (the style MLP's layers)."""

    def __init__(self, input_dim, output_dim, norm="none", activation="relu"):
        super().__init__()
        fc = nn.Linear(input_dim, output_dim, bias=True)
        self.fc = SpectralNorm(fc) if norm == "sn" else fc
        self.norm = make_norm(norm, output_dim, one_d=True)
        self.activation = make_activation(activation)

    def forward(self, x):
        out = self.fc(x)
        if self.norm is not None:
            out = self.norm(out)
        if self.activation is not None:
            out = self.activation(out)
        return out


class ResBlock(nn.Module):
    """x + B2(B1(x)): B1 = conv3x3 + norm + activ, B2 = conv3x3 + norm; the add is fused into B2's norm."""

    def __init__(self, dim, norm="in", activation="relu", pad_type="zero"):
        super().__init__()
        self.model = nn.Sequential(
            Conv2dBlock(dim, dim, 3, 1, 1, norm=norm, activation=activation, pad_type=pad_type),
            Conv2dBlock(dim, dim, 3, 1, 1, norm=norm, activation="none", pad_type=pad_type),
        )

    def forward(self, x, adain_params=None, first_conv_output=None):
        # adain_params: [(scale, bias) for conv 1, (scale, bias) for conv 2] for AdaIN blocks.
        # first_conv_output: conv 1's output when the caller already computed it (shared content).
        p1, p2 = adain_params if adain_params is not None else (None, None)
        h = first_conv_output if first_conv_output is not None else self.model[0].convolve(x)
        if x.shape[0] != h.shape[0]:  # one content map, K styles: broadcast the skip path
            x = x.expand(h.shape[0], *x.shape[1:])
        h = self.model[0].finish(h, adain_params=p1)
        return self.model[1](h, residual=x, adain_params=p2)


class ResBlocks(nn.Module):
    def __init__(self, num_blocks, dim, norm="in", activation="relu", pad_type="zero"):
        super().__init__()
        self.model = nn.Sequential(*[ResBlock(dim, norm, activation, pad_type) for _ in range(num_blocks)])

    def forward(self, x, adain_params=None):
        for i, block in enumerate(self.model):
            x = block(x, None if adain_params is None else adain_params[i])
        return x
