"""The polyphase upsample + 5x5 conv equals the original upsample -> pad -> conv (fp32, 2e-6)."""
import pytest
import torch
import torch.nn as nn

from munit_fast.model.blocks import Conv2dBlock
from munit_fast.model.upsample_conv import PolyphaseDecoder, PolyphaseUpsampleConv, polyphase_weight


@pytest.mark.parametrize("pad_type", ["reflect", "zero", "replicate"])
@pytest.mark.parametrize("size", [
    (8, 8),  # interior and all four border lines
    (5, 7),  # odd, non-square
    (2, 4),  # smallest size with the border-line correction
    (2, 2),
    (1, 1),  # below it: the direct computation (the original refuses reflect padding there)
])
def test_block_equals_upsample_then_conv(pad_type, size):
    block = Conv2dBlock(6, 4, 5, 1, 2, norm="ln", activation="relu", pad_type=pad_type).eval()
    x = torch.randn(2, 6, *size)
    if pad_type == "reflect" and min(size) < 2:  # reflect padding of 2 needs 3 upsampled pixels
        for path in (lambda: block(nn.Upsample(scale_factor=2, mode="nearest")(x)),
                     lambda: PolyphaseUpsampleConv(block)(x)):
            with pytest.raises(RuntimeError, match="Padding size should be less"):
                path()
        return
    with torch.no_grad():
        expected = block(nn.Upsample(scale_factor=2, mode="nearest")(x))
        actual = PolyphaseUpsampleConv(block)(x)
    # 2e-6: sums of up to 4 taps per weight change the rounding of ~600-term dot products
    torch.testing.assert_close(actual, expected, atol=2e-6, rtol=0)


def test_phase_weights_sum_to_the_original_taps():
    weight = torch.randn(3, 2, 5, 5)
    phases = polyphase_weight(weight).reshape(3, 4, 2, 3, 3)
    # every phase kernel sums the same 25 taps
    torch.testing.assert_close(phases.sum((-1, -2)), weight.sum((-1, -2))[:, None].expand(3, 4, 2))


def test_decoder_matches_the_reference_path(reference_generators, reference_tensors):
    _, gen_b = reference_generators
    with torch.no_grad():
        content = gen_b.encode_content(reference_tensors["x_b"])
        params = gen_b.mlp(reference_tensors["s_b"])
        # two polyphase layers in sequence, each LayerNorm rescaling the rounding: 5e-6
        torch.testing.assert_close(PolyphaseDecoder(gen_b.dec)(content, params), gen_b.dec(content, params),
                                   atol=5e-6, rtol=0)
