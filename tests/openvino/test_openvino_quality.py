"""The openvino backend against the PyTorch reference: fp32 exactly (the original implementation's
reference vectors), bf16 and int8 by PSNR on the full-size generator, int8 by the demo model's
modes and CIS."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from munit_fast.cli.eval import load_inputs
from munit_fast.cli.main import main
from munit_fast.config import load_config
from munit_fast.demo_model import DEMO_CHECKPOINT, DEMO_CONFIG
from munit_fast.export.compare import error_stats
from munit_fast.images import list_images, load_image_tensor
from munit_fast.metrics.classifier import load_classifier
from munit_fast.runtime.factory import build_translator
from tests.conftest import SAMPLE_IMAGES

# fp32: OpenVINO reorders and vectorizes sums differently from PyTorch; 1e-4 absolute on images in
# [-1, 1], and 1e-4 relative to the largest magnitude on codes (content codes reach about 9), is
# some ten times the rounding either makes and far below any real difference.
FP32_MAX_ERROR = 1e-4
# bf16 keeps 8 mantissa bits (an image error of about 2^-8 relative per layer, some 50 dB over the
# network); int8 one of 256 levels per activation tensor: the product's bars.
MIN_PSNR_DB = {"bf16": 45.0, "int8": 35.0}
MIN_SAME_MODE = 0.98  # demo model: INT8 translations classified as the fp32 mode, 100 inputs x 8 styles
MAX_CIS_GAP = 0.02


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = (a.double() - b.double()).pow(2).mean().item()
    return float("inf") if mse == 0 else 10 * np.log10(4.0 / mse)


@pytest.mark.parametrize("direction", ["a2b", "b2a"])
def test_fp32_matches_the_original_reference_vectors(reference_config, reference_checkpoint, reference_tensors,
                                                     tmp_path, direction):
    r = reference_tensors
    source, target = ("a", "b") if direction == "a2b" else ("b", "a")
    translator = build_translator(reference_config, reference_checkpoint, direction, backend="openvino",
                                  precision="fp32", openvino_dir=str(tmp_path))
    backend = translator.backend
    assert backend.name == "openvino-CPU-fp32"
    content = backend.encode_content(r[f"x_{source}"])
    checks = {
        f"c_{source}": content,
        f"s_{target}_prime": backend.encode_style(r[f"x_{target}"]).reshape(-1, 8, 1, 1),
        f"x_{source}{target}": backend.decode(r[f"c_{source}"], r[f"s_{target}"].reshape(2, 8)),
    }
    if direction == "a2b":
        checks["x_ab_multi"] = backend.decode(r["c_a"][0:1], r["s_multi"].reshape(4, 8))
    for name, value in checks.items():
        stats = error_stats(value, r[name])
        error = stats.max_abs if name.startswith("x_") else stats.max_rel
        assert error <= FP32_MAX_ERROR, f"{name}: {stats} (relative {stats.max_rel:.3g})"


@pytest.fixture(scope="module")
def sample_images(full_size_model):
    config, _ = full_size_model
    return torch.cat([load_image_tensor(path, 3, 256)[..., :256, :256] for path in list_images(SAMPLE_IMAGES)])


@pytest.fixture(scope="module")
def full_size_reference(full_size_model, sample_images):
    config, checkpoint = full_size_model
    reference = build_translator(config, checkpoint, backend="eager", device="cpu")
    styles = reference.random_styles(2, 0)
    return styles, reference.translate(sample_images, styles)


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_full_size_generator_psnr(full_size_model, sample_images, full_size_reference, tmp_path, precision):
    """The full-size generator on the shared sample images (INT8 calibrated on them) against fp32."""
    config, checkpoint = full_size_model
    styles, reference = full_size_reference
    translator = build_translator(config, checkpoint, backend="openvino", precision=precision,
                                  openvino_dir=str(tmp_path), calib=SAMPLE_IMAGES if precision == "int8" else None)
    quality = psnr(translator.translate(sample_images, styles), reference)
    assert quality >= MIN_PSNR_DB[precision], f"{precision}: {quality:.2f} dB"


def test_demo_int8_keeps_the_modes(demo_int8_dir, tmp_path):
    """The shipped demo model: INT8 translations get the fp32 mode (the shipped mode classifier).
    fp32 runs on OpenVINO too (equal to the PyTorch reference within 1e-4, above), which is
    several times faster here than the reference path over 800 translations."""
    config = load_config(DEMO_CONFIG)
    inputs = torch.cat(load_inputs(config, "a", None, 100))
    classifier, _ = load_classifier(None)
    modes = {}
    for precision, folder in (("fp32", str(tmp_path)), ("int8", demo_int8_dir)):
        translator = build_translator(config, DEMO_CHECKPOINT, backend="openvino", precision=precision,
                                      openvino_dir=folder)
        outputs = translator.translate(inputs, translator.random_styles(8, 0)).float().flatten(0, 1)
        assert outputs.shape == (800, 3, config.new_size, config.new_size)
        modes[precision] = classifier.probabilities(outputs).argmax(dim=1)
    same = (modes["int8"] == modes["fp32"]).float().mean().item()
    assert same >= MIN_SAME_MODE, f"INT8 has the fp32 mode for {same:.1%} of 100 inputs x 8 styles"


def test_demo_int8_eval_cis_matches_fp32(demo_int8_dir, tmp_path, capsys):
    """``munit-fast eval`` CIS of INT8 against fp32 (OpenVINO fp32: equal to the reference within 1e-4,
    above) on the same 100 inputs and styles; 25 styles per input keep it CI-sized."""
    cis = {}
    for precision, folder in (("fp32", str(tmp_path / "fp32")), ("int8", demo_int8_dir)):
        out = tmp_path / f"{precision}.json"
        assert main(["eval", "--backend", "openvino", "--precision", precision, "--openvino-dir", folder,
                     "--num-samples", "25", "--json", str(out)]) == 0
        cis[precision] = json.loads(out.read_text())["cis_kl"]
    capsys.readouterr()
    assert abs(cis["int8"] - cis["fp32"]) <= MAX_CIS_GAP, cis
