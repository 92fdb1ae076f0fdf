"""The padding kernel against F.pad (a copy: equal bit for bit), and where the model uses it."""
from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from kernel_checks import DEVICE, make, requires_triton
from test_generator_kernels import UNFUSED_OPS, _OpLog

from munit_fast.kernels import pad as pad_module
from munit_fast.kernels import pad2d, pad2d_ref
from munit_fast.model.blocks import Conv2dBlock, ResBlock
from munit_fast.model.generator import set_kernel_impl
from munit_fast.model.upsample_conv import PolyphaseDecoder

pytestmark = requires_triton

PAD_OPS = ("reflection_pad2d", "replication_pad2d", "constant_pad_nd", "pad")

# (shape, (left, right, top, bottom)): MUNIT's pads (1, 2, 3 on every side), asymmetric pads,
# pads as large as reflection allows (size - 1), and no pad at all (a 1x1 image: its own test).
CASES = [
    ((2, 3, 9, 7), (1, 1, 1, 1)),
    ((1, 5, 8, 8), (3, 3, 3, 3)),
    ((2, 4, 6, 11), (2, 0, 1, 3)),
    ((1, 2, 4, 3), (2, 2, 3, 3)),
    ((1, 3, 5, 5), (0, 0, 0, 0)),
]


def use_tiles(name, monkeypatch):
    """Default tiles, or tiles so small that every test image spans several along each axis."""
    if name == "small_tiles":
        monkeypatch.setattr(pad_module, "NCHW_BLOCK", 16)
        monkeypatch.setattr(pad_module, "TILE_ELEMENTS", 16)
        monkeypatch.setattr(pad_module, "CHANNELS_LAST_TILE_C", 2)


@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "channels_last"])
@pytest.mark.parametrize("mode", ["reflect", "replicate"])
@pytest.mark.parametrize("shape, padding", CASES)
@pytest.mark.parametrize("tiles, dtype, grad_tolerance", [
    ("default_tiles", torch.float32, 1e-6), ("default_tiles", torch.float16, 1e-3),
    ("small_tiles", torch.float32, 1e-6),
], ids=["fp32", "fp16", "fp32-small-tiles"])
def test_pad_and_its_gradient_equal_f_pad(tiles, dtype, grad_tolerance, shape, padding, mode, channels_last,
                                          monkeypatch):
    """The output is a copy: equal bit for bit. The gradient sums up to 9 (reflect) or
    (1 + pads)^2 (replicate) upstream values in fp32 and rounds once: against F.pad's gradient
    in fp64, fp32 summation order (1e-6) or one fp16 rounding (1e-3 relative)."""
    use_tiles(tiles, monkeypatch)
    x = make(shape, dtype, channels_last).requires_grad_()
    y = pad2d(x, padding, mode, impl="triton")
    expected = F.pad(x.detach(), padding, mode=mode)
    assert torch.equal(y, expected)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    assert y.is_contiguous(memory_format=layout)
    grad = torch.randn_like(y)
    (dx,) = torch.autograd.grad(y, x, grad)
    x64 = x.detach().double().requires_grad_()
    (dx_expected,) = torch.autograd.grad(F.pad(x64, padding, mode=mode), x64, grad.double())
    torch.testing.assert_close(dx.double(), dx_expected, atol=grad_tolerance, rtol=grad_tolerance)
    assert dx.dtype == dtype and dx.is_contiguous(memory_format=layout)


def test_pad_replicates_a_one_pixel_image():
    x = make((2, 3, 1, 1))
    assert torch.equal(pad2d(x, (2, 2, 2, 2), "replicate", impl="triton"), F.pad(x, (2, 2, 2, 2), mode="replicate"))


def test_pad_of_a_strided_view_equals_f_pad():
    """A view that is neither NCHW nor channels_last is copied to NCHW first."""
    x = make((2, 3, 10, 12))[:, :, 1:8, ::2]
    assert torch.equal(pad2d(x, (1, 1, 1, 1), impl="triton"), F.pad(x, (1, 1, 1, 1), mode="reflect"))


def test_gradient_of_another_layout_than_the_output():
    """An upstream gradient in NCHW for a channels_last pad (and the reverse) is laid out as
    the output was before the gather."""
    for channels_last in (False, True):
        x = make((2, 3, 6, 5), channels_last=channels_last).requires_grad_()
        y = pad2d(x, (1, 2, 2, 1), impl="triton")
        grad = torch.randn(y.shape, device=DEVICE)
        grad = grad.contiguous() if channels_last else grad.contiguous(memory_format=torch.channels_last)
        (dx,) = torch.autograd.grad(y, x, grad)
        (dx_expected,) = torch.autograd.grad(F.pad(x, (1, 2, 2, 1), mode="reflect"), x, grad)
        torch.testing.assert_close(dx, dx_expected, atol=1e-6, rtol=1e-6)


def test_exports_record_the_reference_pad():
    """Traced (the TorchScript ONNX exporter), even impl="triton" runs pad2d_ref: F.pad's operator."""
    x = make((1, 2, 5, 5))
    traced = torch.jit.trace(lambda t: pad2d(t, (1, 1, 1, 1), impl="triton"), x)
    assert "aten::pad" in str(traced.graph)
    assert torch.equal(traced(x), pad2d_ref(x, (1, 1, 1, 1)))


def test_reflection_wider_than_the_image_gives_pytorch_error():
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        pad2d(make((1, 2, 3, 3)), (3, 3, 3, 3), "reflect", impl="triton")


def test_unknown_mode_is_a_clear_error():
    with pytest.raises(ValueError, match="pad mode must be one of"):
        pad2d(make((1, 2, 3, 3)), (1, 1, 1, 1), "circular")


class _ConvolutionBiases(_OpLog):
    """_OpLog that also keeps whether each convolution was given a bias."""

    def __init__(self):
        super().__init__()
        self.conv_biases = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func.overloadpacket.__name__ == "convolution":
            self.conv_biases.append(args[2] is not None)
        return super().__torch_dispatch__(func, types, args, kwargs)


@pytest.mark.parametrize("norm", ["in", "adain"])
def test_inference_res_block_runs_two_convolutions_and_nothing_between(norm):
    """At inference a ResBlock on the kernel path is pad kernel -> conv (its bias left out:
    the instance norm after it cancels it) -> fused norm + relu -> pad kernel -> conv -> fused
    norm + residual: no PyTorch padding, elementwise or normalization operator runs."""
    block = ResBlock(4, norm, "relu", "reflect").to(DEVICE)
    set_kernel_impl(block, "triton")
    x = make((2, 4, 8, 8))
    params = [(make((2, 4)), make((2, 4))), (make((2, 4)), make((2, 4)))] if norm == "adain" else None
    with torch.no_grad():
        expected = copy.deepcopy(block)
        set_kernel_impl(expected, "ref")
        with _ConvolutionBiases() as log:
            y = block(x, params)
        torch.testing.assert_close(y, expected(x, params), atol=1e-5, rtol=1e-5)
    assert log.conv_biases == [False, False]
    assert not set(log.ops) & set(UNFUSED_OPS + PAD_OPS), sorted(set(log.ops) & set(UNFUSED_OPS + PAD_OPS))


def test_bias_left_out_only_where_an_instance_norm_follows_and_only_at_inference():
    """A conv bias changes nothing after instance norm (it cancels; a bias of 3 keeps the
    reference's own fp32 rounding of conv + bias far below 1e-5); under autograd the bias stays
    in the graph and gets its gradient; before a LayerNorm the bias is kept."""
    block = Conv2dBlock(3, 4, 3, 1, 1, norm="in", activation="relu", pad_type="reflect").to(DEVICE)
    set_kernel_impl(block, "triton")
    with torch.no_grad():
        block.conv.bias.fill_(3.0)
    x = make((2, 3, 8, 8))
    reference = copy.deepcopy(block)
    set_kernel_impl(reference, "ref")
    with torch.no_grad():
        assert block._bias_cancels(block.pad(x)) and not reference._bias_cancels(reference.pad(x))
        torch.testing.assert_close(block(x), reference(x), atol=1e-5, rtol=1e-5)
    assert not block._bias_cancels(block.pad(x))  # grad mode on, parameters require grad
    block(x).sum().backward()
    assert block.conv.bias.grad is not None
    layer_norm_block = Conv2dBlock(3, 4, 3, 1, 1, norm="ln", activation="relu", pad_type="reflect").to(DEVICE)
    set_kernel_impl(layer_norm_block, "triton")
    with torch.no_grad():
        assert not layer_norm_block._bias_cancels(x)


def test_set_kernel_impl_reaches_every_pad_and_the_polyphase_pad(tiny_generators):
    gen = copy.deepcopy(tiny_generators[0]).set_kernel_impl("ref")
    decoder = PolyphaseDecoder(gen.dec)
    pads = [m for m in list(gen.modules()) + list(decoder.modules()) if hasattr(m, "padding") and hasattr(m, "impl")]
    assert pads and all(m.impl == "ref" for m in pads)
    assert decoder.tail[0].low_res_pad.impl == "ref"


def test_planes_longer_than_the_grid_axis_allows_take_longer_runs(monkeypatch):
    """Runs of one plane go on the grid's second axis (65535 at most on CUDA): a plane with more
    runs than that gets longer runs. Here the limit is shrunk to 3 runs per plane."""
    monkeypatch.setattr(pad_module, "NCHW_BLOCK", 16)
    monkeypatch.setattr(pad_module, "MAX_GRID_Y", 3)
    x = make((2, 3, 9, 10))
    assert torch.equal(pad2d(x, (2, 2, 2, 2), impl="triton"), F.pad(x, (2, 2, 2, 2), mode="reflect"))


@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "channels_last"])
def test_inference_translation_on_the_kernel_path_matches_the_reference(tiny_generators, channels_last):
    """Encode + polyphase decode (reflection strips, the replicate-padded low-resolution conv) at
    inference, where the kernel path pads with the kernel and leaves out the cancelled conv
    biases: the same fp32 math as the reference up to summation order (1e-5)."""
    fast = copy.deepcopy(tiny_generators[0]).to(DEVICE).set_kernel_impl("triton")
    ref = copy.deepcopy(fast).set_kernel_impl("ref")
    layout = torch.channels_last if channels_last else torch.contiguous_format
    images = make((2, 3, 32, 48)).clamp(-1, 1).contiguous(memory_format=layout)
    styles = make((2, fast.style_dim))
    outputs = []
    with torch.no_grad():
        for gen in (fast, ref):
            gen.to(memory_format=layout)
            decoder = PolyphaseDecoder(gen.dec)
            outputs.append(decoder(gen.encode_content(images), gen.mlp(styles)))
    torch.testing.assert_close(outputs[0], outputs[1], atol=1e-5, rtol=1e-5)
