"""TensorRT engine path: build-request checks (no TensorRT needed), then engine build and run
against the PyTorch reference where TensorRT and a CUDA GPU are present."""
from __future__ import annotations

import importlib.util

import onnx
import pytest
import torch

from munit_fast.errors import MunitError
from munit_fast.export import error_stats
from munit_fast.export.trt_build import BuildOptions, check_build_request, has_qdq

HAS_TENSORRT = importlib.util.find_spec("tensorrt") is not None
needs_tensorrt = pytest.mark.skipif(not HAS_TENSORRT, reason="tensorrt is not installed")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
EMPTY = onnx.helper.make_model(onnx.helper.make_graph([], "g", [], []))
QDQ = onnx.helper.make_model(onnx.helper.make_graph(
    [onnx.helper.make_node("QuantizeLinear", ["x", "s"], ["q"])], "g", [], []))


@pytest.mark.parametrize("precision,graph,model,strong,match", [
    ("fp16", "fp32", EMPTY, True, "export the graph with --fp16"),
    ("int8", "fp32", EMPTY, True, "only from a Q/DQ ONNX graph"),
    ("fp32", "fp16", EMPTY, True, "this graph is the fp16 export"),
    ("int8", "fp32", EMPTY, False, "--int8 needs --calib"),
    ("bf16", "fp32", EMPTY, False, "expected one of fp32, fp16, int8"),
])
def test_rejected_build_requests(precision, graph, model, strong, match):
    with pytest.raises(MunitError, match=match):
        check_build_request({"precision": graph}, model, BuildOptions(precision=precision), strong)


@pytest.mark.parametrize("precision,graph,model,strong,calib", [
    ("fp16", "fp32", EMPTY, False, None),  # TensorRT 10: FP16 flag on the fp32 graph
    ("fp16", "fp16", EMPTY, True, None),  # TensorRT 11: the fp16 export, strongly typed
    ("int8", "fp32", EMPTY, False, "frames/"),  # TensorRT 10: calibrated INT8
    ("int8", "fp32", QDQ, True, None),  # TensorRT 11: explicit quantization
])
def test_accepted_build_requests(precision, graph, model, strong, calib):
    check_build_request({"precision": graph}, model, BuildOptions(precision=precision, calib=calib), strong)


def test_dla_needs_reduced_precision():
    with pytest.raises(MunitError, match="DLA runs fp16 or int8"):
        check_build_request({"precision": "fp32"}, EMPTY, BuildOptions(precision="fp32", dla_core=0), False)


def test_qdq_detection():
    assert has_qdq(QDQ) and not has_qdq(EMPTY)


def test_missing_tensorrt_is_a_one_line_error(monkeypatch, tmp_path):
    if HAS_TENSORRT:
        pytest.skip("tensorrt is installed here")
    from munit_fast.export.trt_build import build_engine

    with pytest.raises(MunitError, match="tensorrt is not installed"):
        build_engine(str(tmp_path / "g.onnx"), str(tmp_path / "g.engine"), BuildOptions())


@needs_tensorrt
@needs_cuda
@pytest.mark.parametrize("precision,min_psnr", [("fp32", 60.0), ("fp16", 40.0)])  # fp32 allows TF32 convolutions
def test_engines_match_pytorch(reference_graphs, reference_generators, tmp_path, precision, min_psnr):
    from munit_fast.export.sidecar import read_sidecar
    from munit_fast.export.trt_build import build_engine
    from munit_fast.export.trt_profiles import parse_shapes
    from munit_fast.runtime.backends.tensorrt import TensorRTBackend

    gen_a, gen_b = reference_generators
    graphs = reference_graphs["fp16" if precision == "fp16" else "fp32"]
    engines = {}
    for part in ("content_encoder", "style_encoder", "decoder"):
        engines[part] = str(tmp_path / f"{part}.engine")
        build_engine(graphs[part], engines[part], BuildOptions(
            precision=precision, images=parse_shapes("1x3x64x64:1x3x180x320"), styles=4,
            timing_cache=str(tmp_path / "timing.cache")))
    assert read_sidecar(engines["decoder"]).profiles["style"] == [[1, 8], [4, 8], [4, 8]]
    assert (tmp_path / "timing.cache").stat().st_size > 0
    backend = TensorRTBackend(engines, torch.device("cuda"))
    images = torch.rand(1, 3, 180, 320) * 2 - 1
    codes = torch.randn(4, 8)
    with torch.no_grad():
        reference = gen_b.decode(gen_a.encode_content(images), codes)
    content = backend.encode_content(images.cuda())
    out = backend.decode(content, codes.cuda()).cpu()
    stats = error_stats(out, reference)
    assert stats.psnr_db > min_psnr, str(stats)
