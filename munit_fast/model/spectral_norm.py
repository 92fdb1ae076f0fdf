"""The original MUNIT's spectral normalization wrapper (dis.norm: sn), key-compatible.

Keys: ``<name>.module.bias``, ``.module.weight_u``, ``.module.weight_v``, ``.module.weight_bar``.
Every forward pass (train or eval mode) runs ``power_iterations`` power iterations (1, as the
original) and uses weight_bar / sigma with sigma = u . (W v).

The original stores the new u and v by rebinding the parameters' data (``u.data = ...``), not
by writing into them. That has two consequences this module keeps:

- no version counter changes, so a backward pass after several discriminator calls (fake,
  then real, as a D update does) works;
- the backward of an earlier call's sigma reads u and v as they are at backward time: after a
  D update's two calls, the gradient through both sigmas uses the vectors of the second call.

The power iteration and sigma run in fp32 whatever autocast says, so mixed-precision training
keeps these semantics (a low-precision copy of u or v would freeze them at forward time).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def _l2normalize(v: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    return v / (v.norm() + eps)


class SpectralNorm(nn.Module):
    def __init__(self, module: nn.Module, power_iterations: int = 1):
        super().__init__()
        self.module = module
        self.power_iterations = power_iterations
        weight = module.weight
        height = weight.shape[0]
        width = weight.view(height, -1).shape[1]
        del module._parameters["weight"]
        u = _l2normalize(weight.data.new_empty(height).normal_())  # u is drawn before v, as the original
        v = _l2normalize(weight.data.new_empty(width).normal_())
        module.register_parameter("weight_u", nn.Parameter(u, requires_grad=False))
        module.register_parameter("weight_v", nn.Parameter(v, requires_grad=False))
        module.register_parameter("weight_bar", nn.Parameter(weight.data))

    def normalized_weight(self) -> torch.Tensor:
        u, v, w = self.module.weight_u, self.module.weight_v, self.module.weight_bar
        matrix = w.view(w.shape[0], -1)  # (out, in * kh * kw)
        with torch.autocast(device_type=w.device.type, enabled=False):
            with torch.no_grad():
                for _ in range(self.power_iterations):
                    v.data = _l2normalize(torch.mv(matrix.t(), u))
                    u.data = _l2normalize(torch.mv(matrix, v))
            sigma = u.dot(matrix.mv(v))  # autograd keeps u and v themselves: see the module docstring
            return w / sigma

    def forward(self, x):
        weight = self.normalized_weight()
        if isinstance(self.module, nn.Conv2d):
            m = self.module
            return F.conv2d(x, weight, m.bias, m.stride, m.padding, m.dilation, m.groups)
        return F.linear(x, weight, self.module.bias)
