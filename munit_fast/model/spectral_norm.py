"""The original MUNIT's spectral normalization wrapper (dis.norm: sn), key-compatible.

Keys: ``<name>.module.bias``, ``.module.weight_u``, ``.module.weight_v``, ``.module.weight_bar``.
One power iteration per forward pass updates u and v in place (as the original does, also
in eval mode); the weight used is weight_bar / sigma.
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
        module.register_parameter("weight_u", nn.Parameter(_l2normalize(weight.data.new_empty(height).normal_()), requires_grad=False))
        module.register_parameter("weight_v", nn.Parameter(_l2normalize(weight.data.new_empty(width).normal_()), requires_grad=False))
        module.register_parameter("weight_bar", nn.Parameter(weight.data))

    def normalized_weight(self) -> torch.Tensor:
        u, v, w = self.module.weight_u, self.module.weight_v, self.module.weight_bar
        height = w.shape[0]
        with torch.no_grad():
            for _ in range(self.power_iterations):
                v.copy_(_l2normalize(torch.mv(w.view(height, -1).t(), u)))
                u.copy_(_l2normalize(torch.mv(w.view(height, -1), v)))
        sigma = u.dot(w.view(height, -1).mv(v))
        return w / sigma

    def forward(self, x):
        weight = self.normalized_weight()
        if isinstance(self.module, nn.Conv2d):
            m = self.module
            return F.conv2d(x, weight, m.bias, m.stride, m.padding, m.dilation, m.groups)
        return F.linear(x, weight, self.module.bias)
