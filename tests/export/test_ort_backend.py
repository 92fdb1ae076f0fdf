"""The ONNX Runtime backend behind the Translator, built by ``build_translator(backend="onnx")``."""
from __future__ import annotations

import os

import pytest
import torch

from munit_fast.checkpoint import build_generators
from munit_fast.config import config_from_dict
from munit_fast.errors import MunitError
from munit_fast.export import export_onnx
from munit_fast.runtime.factory import build_translator
from tests.conftest import TINY_MODEL

ATOL = 1e-4  # fp32 ONNX Runtime vs PyTorch, as in test_onnx_export


@pytest.mark.parametrize("direction", ["a2b", "b2a"])
def test_translator_matches_eager(reference_config, reference_checkpoint, tmp_path, direction):
    eager = build_translator(reference_config, reference_checkpoint, direction)
    onnx = build_translator(reference_config, reference_checkpoint, direction, backend="onnx",
                            onnx_dir=str(tmp_path))
    assert onnx.name == "onnx-cpu-fp32" and onnx.style_dim == eager.style_dim
    images = torch.rand(2, 3, 50, 70) * 2 - 1  # odd size: the Translator pads to a multiple of 4, then crops
    styles = torch.randn(3, 8)
    out = onnx.translate(images, styles)
    assert out.shape == (2, 3, 3, 50, 70)
    torch.testing.assert_close(out, eager.translate(images, styles), atol=ATOL, rtol=0)
    torch.testing.assert_close(onnx.style_from_images(images), eager.style_from_images(images), atol=ATOL, rtol=0)


def test_graphs_are_exported_once_into_the_cache(reference_config, reference_checkpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("MUNIT_FAST_CACHE", str(tmp_path))
    build_translator(reference_config, reference_checkpoint, backend="onnx")
    (folder,) = (tmp_path / "onnx").iterdir()
    files = sorted(os.listdir(folder))
    assert files == ["munit_a2b_content_encoder_fp32.onnx", "munit_a2b_decoder_fp32.onnx",
                     "munit_a2b_style_encoder_fp32.onnx"]
    stamp = os.path.getmtime(folder / files[0])
    build_translator(reference_config, reference_checkpoint, backend="onnx")  # reuses the cached graphs
    assert os.path.getmtime(folder / files[0]) == stamp


def test_prebuilt_graphs_of_another_model_are_refused(reference_config, reference_checkpoint, tmp_path):
    other = config_from_dict(dict(TINY_MODEL, gen=dict(TINY_MODEL["gen"], style_dim=4)))
    gen_a, gen_b = build_generators(other)
    export_onnx(gen_a, gen_b, str(tmp_path), "a2b", parts=["content_encoder", "style_encoder", "decoder"])
    with pytest.raises(MunitError, match="has style_dim='4', this config and direction need '8'"):
        build_translator(reference_config, reference_checkpoint, backend="onnx", onnx_dir=str(tmp_path))


def test_bad_precision_and_device(reference_config, reference_checkpoint, tmp_path):
    with pytest.raises(MunitError, match="--backend onnx runs --precision fp32/fp16, not bf16"):
        build_translator(reference_config, reference_checkpoint, backend="onnx", precision="bf16",
                         onnx_dir=str(tmp_path))
    if not torch.cuda.is_available():
        with pytest.raises(MunitError, match="CUDA is not available"):
            build_translator(reference_config, reference_checkpoint, backend="onnx", device="cuda",
                             onnx_dir=str(tmp_path))


def test_tensorrt_backend_needs_cuda_or_tensorrt(reference_config, reference_checkpoint, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("needs a machine without CUDA to check the error")
    with pytest.raises(MunitError, match="--backend tensorrt needs tensorrt|runs on --device cuda"):
        build_translator(reference_config, reference_checkpoint, backend="tensorrt", onnx_dir=str(tmp_path),
                         engine_dir=str(tmp_path))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_execution_provider_with_io_binding(reference_config, reference_checkpoint, tmp_path):
    import onnxruntime

    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        pytest.skip("needs onnxruntime-gpu (CUDAExecutionProvider)")
    eager = build_translator(reference_config, reference_checkpoint)
    onnx = build_translator(reference_config, reference_checkpoint, backend="onnx", device="cuda",
                            onnx_dir=str(tmp_path))
    images = torch.rand(1, 3, 64, 96) * 2 - 1
    styles = torch.randn(4, 8)
    out = onnx.translate(images.cuda(), styles.cuda())
    assert out.is_cuda
    torch.testing.assert_close(out.cpu(), eager.translate(images, styles), atol=ATOL, rtol=0)


def test_graphs_of_two_exports_are_refused_together(reference_graphs):
    """A decoder of the fp16 export beside the fp32 encoders: one line naming both files."""
    from munit_fast.runtime.backends.onnxruntime import OrtBackend

    mixed = {**reference_graphs["fp32"], "decoder": reference_graphs["fp16"]["decoder"]}
    with pytest.raises(MunitError, match="come from different exports"):
        OrtBackend(mixed, torch.device("cpu"))


@pytest.mark.parametrize("key", ["direction", "precision", "weights_sha256"])
def test_split_graphs_info_checks_every_part_against_the_decoder(key):
    from munit_fast.export.graphs import split_graphs_info

    meta = {"direction": "a2b", "precision": "fp32", "weights_sha256": "ab12", "style_dim": "8",
            "n_downsample": "2", "input_dim": "3", "output_dim": "1", "content_dim": "256"}
    paths = {"content_encoder": "c.onnx", "style_encoder": "s.onnx", "decoder": "d.onnx"}
    info = split_graphs_info({part: dict(meta) for part in paths}, paths, "ONNX graphs")
    assert (info.style_dim, info.n_downsample, info.input_dim, info.output_dim, info.content_dim,
            info.precision) == (8, 2, 3, 1, 256, "fp32")
    other = {part: dict(meta) for part in paths}
    other["style_encoder"][key] = "other"
    with pytest.raises(MunitError, match="ONNX graphs s.onnx and d.onnx come from different exports"):
        split_graphs_info(other, paths, "ONNX graphs")


def test_decode_refuses_content_and_style_batches_that_differ(reference_graphs):
    from munit_fast.runtime.backend import decode_inputs
    from munit_fast.runtime.backends.onnxruntime import OrtBackend

    assert decode_inputs(torch.zeros(1, 4, 2, 2), torch.zeros(3, 8, 1, 1)).shape == (3, 8)  # original (K, d, 1, 1)
    backend = OrtBackend(reference_graphs["fp32"], torch.device("cpu"))
    content = torch.zeros(2, backend.content_dim, 4, 4)
    with pytest.raises(MunitError, match="content batch 2 and style batch 3 differ"):
        backend.decode(content, torch.zeros(3, backend.style_dim))
