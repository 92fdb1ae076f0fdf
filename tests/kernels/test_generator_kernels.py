"""The whole generator and its residual blocks with the Triton kernels against the reference ops."""
from __future__ import annotations

import copy

import pytest
import torch
from kernel_checks import DEVICE, make, requires_triton
from torch.utils._python_dispatch import TorchDispatchMode

from munit_fast import kernels
from munit_fast.model.blocks import ResBlock
from munit_fast.model.generator import set_kernel_impl

pytestmark = requires_triton

# Elementwise or normalization operators that must not run between a ResBlock's convolutions.
UNFUSED_OPS = ("add", "sub", "mul", "div", "relu", "leaky_relu", "threshold", "where", "clamp",
               "instance_norm", "batch_norm", "native_batch_norm", "var_mean", "mean", "sum", "sqrt", "rsqrt")


class _OpLog(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.ops = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(func.overloadpacket.__name__)
        return func(*args, **(kwargs or {}))


def _grads(module, loss):
    params = [p for p in module.parameters() if p.requires_grad]
    return dict(zip([n for n, p in module.named_parameters() if p.requires_grad], torch.autograd.grad(loss, params)))


def test_generator_with_kernels_matches_reference(tiny_generators):
    """Encode + decode and every parameter gradient, fp32, with float64 as the exact yardstick.

    Outputs: 1e-5 absolute and relative (same fp32 math, only the reduction order differs).
    Gradients: each parameter's gradient through the kernels may deviate from the float64
    gradient by at most 4x what the PyTorch reference ops deviate (plus 1e-7): the kernels must
    be as accurate as the ops they replace. A fixed tolerance does not fit every device: on CPU
    both paths lie within 2e-7 of float64, while on a GPU cuDNN's own fp32 weight gradients
    already differ from float64 by a few 1e-6. A wrong gradient term is off by orders more."""
    fast = tiny_generators[0].to(DEVICE).train().set_kernel_impl("triton")
    ref = copy.deepcopy(fast).set_kernel_impl("ref")
    exact = copy.deepcopy(ref).double()
    images = make((2, 3, 64, 64)).clamp(-1, 1)
    outputs = []
    for gen in (fast, ref, exact):
        x = images.to(next(gen.parameters()).dtype)
        content, style = gen.encode(x)
        recon = gen.decode(content, style)
        weights = torch.linspace(-1, 1, recon.numel(), device=DEVICE, dtype=recon.dtype).view_as(recon)
        outputs.append((content, style, recon, _grads(gen, (recon * weights).mean())))
    (c, s, r, g), (c_ref, s_ref, r_ref, g_ref), (_, _, _, g_exact) = outputs
    torch.testing.assert_close(c, c_ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(s, s_ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(r, r_ref, atol=1e-5, rtol=1e-5)
    assert g.keys() == g_ref.keys() == g_exact.keys()
    for name in g:
        fast_error = (g[name].double() - g_exact[name]).abs().max().item()
        ref_error = (g_ref[name].double() - g_exact[name]).abs().max().item()
        assert fast_error <= 4 * ref_error + 1e-7, f"{name}: kernels {fast_error:.3g} vs reference ops {ref_error:.3g}"


def test_generator_decodes_one_content_with_a_batch_of_styles(tiny_generators):
    """One content map, K = 3 styles: the decoder shares the map as a batch-expanded view."""
    fast = tiny_generators[0].to(DEVICE).set_kernel_impl("triton")
    ref = copy.deepcopy(fast).set_kernel_impl("ref")
    with torch.no_grad():
        content = ref.encode_content(make((1, 3, 64, 64)).clamp(-1, 1))
        styles = make((3, ref.style_dim, 1, 1))
        torch.testing.assert_close(fast.decode(content, styles), ref.decode(content, styles), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("norm", ["in", "adain"])
def test_res_block_fuses_norm_activation_and_residual(norm, monkeypatch):
    """conv -> fused norm + relu -> conv -> fused norm + residual add: nothing elementwise in between."""
    block = ResBlock(4, norm, "relu", "reflect").to(DEVICE)
    set_kernel_impl(block, "triton")
    x = make((2, 4, 8, 8))
    params = [(make((2, 4)), make((2, 4))), (make((2, 4)), make((2, 4)))] if norm == "adain" else None
    op = "adain" if norm == "adain" else "instance_norm"
    calls = []
    fused = getattr(kernels, op)

    def spy(y, *args, **kwargs):
        activation, residual = (args[2], args[3]) if norm == "adain" else (args[0], args[1])
        calls.append((activation, residual is x))
        return fused(y, *args, **kwargs)

    monkeypatch.setattr(kernels, op, spy)
    with _OpLog() as log:
        block(x, params)
    assert calls == [("relu", False), ("none", True)]
    assert log.ops.count("convolution") == 2
    assert not set(log.ops) & set(UNFUSED_OPS), f"unfused operators ran: {sorted(set(log.ops) & set(UNFUSED_OPS))}"
