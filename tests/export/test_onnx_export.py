"""Every exported graph, run in ONNX Runtime (CPU), against the PyTorch reference.

fp32 tolerance 1e-4 absolute: the graphs compute the same ops as PyTorch in another order
(ONNX Runtime's convolution and reduction kernels), which moves results by ~1e-6 here.
fp16 graphs (fp16 convolutions, fp32 normalization statistics): PSNR >= 50 dB against the
fp32 reference on [-1, 1] images (measured 79 dB at 180x320 on this model), content and style
codes within 5e-3 relative L2 error (measured 9e-4; fp16 keeps 11 significant bits).
"""
from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch

from munit_fast.export import error_stats, psnr

FP32_ATOL = 1e-4
FP16_MIN_PSNR_DB = 50.0
FP16_CODE_RTOL = 5e-3


def run(path: str, *inputs: torch.Tensor) -> torch.Tensor:
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = {i.name: t.numpy().astype(np.float32) for i, t in zip(session.get_inputs(), inputs)}
    return torch.from_numpy(session.run(None, feeds)[0])


def assert_close(output, reference, atol=FP32_ATOL):
    torch.testing.assert_close(output, reference.float(), atol=atol, rtol=0)


def test_graphs_match_original_reference_vectors(reference_graphs, reference_tensors):
    g, t = reference_graphs["fp32"], reference_tensors
    assert_close(run(g["content_encoder"], t["x_a"]), t["c_a"])
    assert_close(run(g["style_encoder"], t["x_b"]), t["s_b_prime"].flatten(1))
    assert_close(run(g["decoder"], t["c_a"], t["s_b"].flatten(1)), t["x_ab"])
    assert_close(run(g["translate"], t["x_a"], t["s_b"].flatten(1)), t["x_ab"])


def test_decoder_one_content_four_styles_matches_reference(reference_graphs, reference_tensors):
    t = reference_tensors
    out = run(reference_graphs["fp32"]["decoder"], t["c_a"][0:1], t["s_multi"].flatten(1))
    assert out.shape[0] == 4
    assert_close(out, t["x_ab_multi"])


@pytest.mark.parametrize("height,width", [(180, 320), (64, 96)])  # non-square; two resolutions, one graph
@pytest.mark.parametrize("styles", [1, 4])
def test_dynamic_shapes_match_pytorch(reference_graphs, reference_generators, height, width, styles):
    gen_a, gen_b = reference_generators
    g = reference_graphs["fp32"]
    images = torch.rand(styles, 3, height, width) * 2 - 1
    codes = torch.randn(styles, gen_b.style_dim)
    with torch.no_grad():
        content = gen_a.encode_content(images)
        assert_close(run(g["content_encoder"], images), content)
        assert_close(run(g["style_encoder"], images), gen_b.encode_style(images).flatten(1))
        assert_close(run(g["translate"], images, codes), gen_b.decode(content, codes))
        shared = run(g["decoder"], content[:1], codes)  # one content map, K styles
        assert shared.shape == (styles, 3, height, width)
        assert_close(shared, gen_b.decode(content[:1], codes))


def test_fp16_graphs_by_psnr(reference_graphs, reference_generators):
    gen_a, gen_b = reference_generators
    g = reference_graphs["fp16"]
    images = torch.rand(2, 3, 180, 320) * 2 - 1
    codes = torch.randn(4, gen_b.style_dim)
    with torch.no_grad():
        content = gen_a.encode_content(images)
        style = gen_b.encode_style(images).flatten(1)
        translated = gen_b.decode(content, codes[:2])
        shared = gen_b.decode(content[:1], codes)
    rel = lambda out, ref: ((out - ref).norm() / ref.norm()).item()  # noqa: E731
    assert rel(run(g["content_encoder"], images), content) < FP16_CODE_RTOL
    assert rel(run(g["style_encoder"], images), style) < FP16_CODE_RTOL
    assert psnr(run(g["translate"], images, codes[:2]), translated) > FP16_MIN_PSNR_DB
    out = run(g["decoder"], content[:1], codes)
    stats = error_stats(out, shared)
    assert stats.psnr_db > FP16_MIN_PSNR_DB, str(stats)
