"""The Translator: content once, K styles per batched pass, any frame size, reduced precision."""
import numpy as np
import pytest
import torch

from munit_fast.errors import MunitError
from munit_fast.runtime import EagerBackend, Translator, load_style_codes
from munit_fast.runtime.styles import random_styles


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """PSNR in dB of images in [-1, 1], peak-to-peak 2."""
    mse = (a.double() - b.double()).pow(2).mean().item()
    return float("inf") if mse == 0 else 10 * np.log10(4.0 / mse)


@pytest.fixture
def translator(reference_generators):
    gen_a, gen_b = reference_generators
    return Translator(EagerBackend(gen_a, gen_b))


def test_translate_equals_per_style_decodes(translator, reference_generators, reference_tensors):
    gen_a, gen_b = reference_generators
    images, styles = reference_tensors["x_a"], reference_tensors["s_multi"][:, :, 0, 0]
    out = translator.translate(images, styles)
    assert out.shape == (2, 4, 3, 64, 64)
    with torch.no_grad():
        for i in range(2):
            for k in range(4):
                single = gen_b.decode(gen_a.encode_content(images[i:i + 1]), styles[k:k + 1])[0]
                torch.testing.assert_close(out[i, k], single, atol=1e-5, rtol=0)


def test_matches_the_original_cross_domain_output(translator, reference_tensors):
    out = translator.translate(reference_tensors["x_a"][:1], reference_tensors["s_multi"][:, :, 0, 0])[0]
    assert (out - reference_tensors["x_ab_multi"]).abs().max().item() <= 1e-5


@pytest.mark.parametrize("size", [(37, 53), (64, 64), (70, 33), (3, 5)])
def test_any_frame_size_comes_back_at_its_size(translator, size):
    out = translator.translate(torch.rand(1, 3, *size) * 2 - 1, translator.random_styles(2, seed=1))
    assert out.shape == (1, 2, 3, *size)
    assert torch.isfinite(out).all() and out.abs().max() <= 1


def test_random_styles_depend_only_on_the_seed():
    assert torch.equal(random_styles(3, 8, seed=5), random_styles(3, 8, seed=5))
    assert not torch.equal(random_styles(3, 8, seed=5), random_styles(3, 8, seed=6))
    assert torch.equal(random_styles(4, 8, seed=5)[:3], random_styles(3, 8, seed=5))  # same N styles for any count


def test_example_guided_style_uses_the_target_style_encoder(translator, reference_generators, reference_tensors):
    _, gen_b = reference_generators
    style = translator.style_from_images(reference_tensors["x_b"])
    with torch.no_grad():
        torch.testing.assert_close(style, gen_b.encode_style(reference_tensors["x_b"])[:, :, 0, 0], atol=1e-6, rtol=0)
    with pytest.raises(MunitError, match=r"style images must be shaped \(B, 3, H, W\)"):
        translator.style_from_images(torch.zeros(1, 1, 8, 8))


def test_style_images_below_the_style_encoders_size_are_enlarged(translator, reference_generators):
    """The style encoder needs 16 pixels a side (four padded stride-2 convolutions): smaller style
    images are repeated up to it, which for whole factors is each pixel as a 4x4 or 16x16 block."""
    _, gen_b = reference_generators
    torch.manual_seed(0)
    one_pixel, small, odd, exact = (torch.rand(1, 3, *size) * 2 - 1 for size in ((1, 1), (4, 8), (5, 12), (16, 16)))
    with torch.no_grad():
        expected = {
            "one_pixel": gen_b.encode_style(one_pixel.expand(1, 3, 16, 16)),
            "small": gen_b.encode_style(small.repeat_interleave(4, 2).repeat_interleave(4, 3)),
            "exact": gen_b.encode_style(exact),  # 16 a side: the image as it is
        }
    for name, image in (("one_pixel", one_pixel), ("small", small), ("exact", exact)):
        torch.testing.assert_close(translator.style_from_images(image), expected[name][:, :, 0, 0], atol=1e-6, rtol=0)
    assert torch.isfinite(translator.style_from_images(odd)).all()


def test_style_code_files(tmp_path):
    np.save(tmp_path / "ok.npy", np.zeros((3, 8, 1, 1), np.float32))
    assert load_style_codes(str(tmp_path / "ok.npy"), 8).shape == (3, 8)
    np.save(tmp_path / "bad.npy", np.zeros((3, 5), np.float32))
    with pytest.raises(MunitError, match=r"shape \(3, 5\); expected \(K, 8\)"):
        load_style_codes(str(tmp_path / "bad.npy"), 8)
    with pytest.raises(MunitError, match="not found"):
        load_style_codes(str(tmp_path / "none.npy"), 8)


def test_channels_last_matches_contiguous(reference_generators, reference_tensors):
    gen_a, gen_b = reference_generators
    styles = reference_tensors["s_multi"][:, :, 0, 0]
    reference = Translator(EagerBackend(gen_a, gen_b)).translate(reference_tensors["x_a"], styles)
    fast = Translator(EagerBackend(gen_a, gen_b, channels_last=True)).translate(reference_tensors["x_a"], styles)
    torch.testing.assert_close(fast, reference, atol=1e-5, rtol=0)


# Reduced precision: convolutions in bf16/fp16, statistics, norms and the style MLP in fp32.
# bf16 keeps 8 mantissa bits, fp16 11 (3 bits = 18 dB better in principle). Measured on the
# reference model: bf16 47.8 dB, fp16 56.5 dB. Bounds: bf16 >= 40 dB (the product's quality
# bar for fast paths), fp16 >= 50 dB.
@pytest.mark.parametrize("precision, bound", [("bf16", 40.0), ("fp16", 50.0)])
def test_reduced_precision_psnr(reference_generators, reference_tensors, precision, bound):
    gen_a, gen_b = reference_generators
    styles = reference_tensors["s_multi"][:, :, 0, 0]
    reference = Translator(EagerBackend(gen_a, gen_b)).translate(reference_tensors["x_a"], styles)
    low = Translator(EagerBackend(gen_a, gen_b, precision=precision)).translate(reference_tensors["x_a"], styles)
    assert low.dtype == torch.float32
    assert psnr(low, reference) >= bound


def test_unavailable_device_is_a_clear_error(reference_generators):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the error is for machines without it")
    with pytest.raises(MunitError, match="CUDA is not available"):
        EagerBackend(*reference_generators, device="cuda")
