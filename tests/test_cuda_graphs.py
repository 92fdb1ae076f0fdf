"""CUDA graphs for the eager backends: clear errors where they cannot run; on a GPU, graphed
translations equal the launched ones, one graph per input shape, outputs never aliased."""
import warnings

import pytest
import torch

from munit_fast.errors import MunitError
from munit_fast.runtime import EagerBackend, Translator, cuda_graphs
from munit_fast.runtime.cuda_graphs import GraphedFunction
from munit_fast.runtime.factory import build_translator

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="CUDA graphs need a CUDA device")


def test_cpu_device_is_a_clear_error(reference_generators):
    gen_a, gen_b = reference_generators
    with pytest.raises(MunitError, match="--cuda-graphs needs a CUDA device, got --device cpu"):
        EagerBackend(gen_a, gen_b, device="cpu", cuda_graphs=True)


def test_export_backends_refuse_cuda_graphs(reference_config):
    with pytest.raises(MunitError, match="not --backend onnx"):
        build_translator(reference_config, "unused.pt", backend="onnx", cuda_graphs=True)


def test_auto_graphs_only_where_they_apply(reference_generators, reference_config):
    gen_a, gen_b = reference_generators
    assert EagerBackend(gen_a, gen_b, device="cpu", cuda_graphs="auto").name == "eager-fp32"  # a CPU: no graphs
    with pytest.raises(MunitError) as error:  # the export backends go on to their own work (here: no checkpoint)
        build_translator(reference_config, "missing.pt", backend="onnx", cuda_graphs="auto")
    assert "cuda-graphs" not in str(error.value)


def failing_capture(monkeypatch):
    def capture(fn, inputs):
        raise RuntimeError("operation not permitted when stream is capturing\nmore detail")
    monkeypatch.setattr(cuda_graphs, "_Capture", capture)


def test_automatic_graphs_fall_back_to_launched_calls_with_one_warning(monkeypatch):
    failing_capture(monkeypatch)
    calls = []
    graphed = GraphedFunction(lambda x: calls.append(x) or x + 1, fallback=True)
    with pytest.warns(UserWarning, match=r"CUDA graph capture failed \(operation not permitted when stream is "
                                         r"capturing\); running the model launched"):
        assert graphed(torch.ones(2)).tolist() == [2.0, 2.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no second warning, no second capture attempt
        assert graphed(torch.zeros(3)).tolist() == [1.0, 1.0, 1.0]
    assert graphed.launched and graphed.num_graphs == 0 and len(calls) == 2


def test_automatic_graphs_capture_only_shapes_that_repeat(monkeypatch):
    """capture_at=2: a signature's first call runs launched, its second captures, later ones
    replay; a signature seen once is never captured."""
    captured = []

    class FakeCapture:
        def __init__(self, fn, inputs):
            captured.append(tuple(inputs[0].shape))
            self.fn = fn

        def __call__(self, inputs):
            return self.fn(*inputs) * 10  # marks results that came from a "replay"

    monkeypatch.setattr(cuda_graphs, "_Capture", FakeCapture)
    graphed = GraphedFunction(lambda x: x + 1, fallback=True, capture_at=2)
    once, repeated = torch.zeros(3), torch.zeros(2)
    assert graphed(once).tolist() == [1.0] * 3
    assert graphed(repeated).tolist() == [1.0] * 2
    assert graphed(repeated).tolist() == [10.0] * 2  # second call: captured, replayed
    assert graphed(repeated).tolist() == [10.0] * 2
    assert captured == [(2,)] and graphed.num_graphs == 1


def test_requested_graphs_report_a_failed_capture(monkeypatch):
    failing_capture(monkeypatch)
    with pytest.raises(RuntimeError, match="stream is capturing"):
        GraphedFunction(lambda x: x + 1)(torch.ones(2))


@needs_cuda
def test_graphed_function_captures_per_signature_and_copies_outputs():
    graphed = GraphedFunction(lambda x: x * 2 + 1)
    a = torch.arange(6.0, device="cuda").reshape(2, 3)
    first = graphed(a)
    second = graphed(a + 10)
    torch.testing.assert_close(first, a * 2 + 1, rtol=0, atol=0)  # not overwritten by the later replay
    torch.testing.assert_close(second, (a + 10) * 2 + 1, rtol=0, atol=0)
    graphed(torch.ones(4, device="cuda"))
    assert graphed.num_graphs == 2


@needs_cuda
@pytest.mark.parametrize("kernels", ["ref", "triton"])
def test_graphed_translation_matches_launched(reference_generators, reference_tensors, kernels):
    """Same kernels in both paths; cuDNN may pick another algorithm under capture, and CUDA
    convolutions run in TF32 by default (10-bit mantissa), hence 1e-3 on outputs in [-1, 1]."""
    if kernels == "triton":
        pytest.importorskip("triton")
    gen_a, gen_b = reference_generators
    launched = Translator(EagerBackend(gen_a, gen_b, device="cuda", kernels=kernels))
    graphed = Translator(EagerBackend(gen_a, gen_b, device="cuda", kernels=kernels, cuda_graphs=True))
    images, styles = reference_tensors["x_a"], reference_tensors["s_multi"][:, :, 0, 0]
    expected = launched.translate(images, styles)
    first = graphed.translate(images, styles)
    torch.testing.assert_close(first, expected, atol=1e-3, rtol=0)
    torch.testing.assert_close(graphed.translate(images, styles), first, atol=0, rtol=0)  # replay is deterministic
    odd = images[:, :, :40, :56]
    torch.testing.assert_close(graphed.translate(odd, styles), launched.translate(odd, styles), atol=1e-3, rtol=0)
    assert graphed.backend._decode_styles.num_graphs == 2


@needs_cuda
@pytest.mark.parametrize("backend", ["eager", "triton"])
def test_video_replays_graphs_by_default_on_cuda(backend, tmp_path, capsys):
    """The threaded video pipeline on CUDA: graphs chosen automatically, captured without a
    fallback (each size on its second call, in the inference thread)."""
    if backend == "triton":
        pytest.importorskip("triton")
    from munit_fast.cli.main import main

    output = tmp_path / "out.mp4"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["video", "--input", "demo", "--frames", "8", "--style", "grid:2", "--headless",
                     "--output", str(output), "--device", "cuda", "--backend", backend]) == 0
    assert f"backend {backend}-fp32-graphs" in capsys.readouterr().out
    assert not [w for w in caught if "CUDA graph capture failed" in str(w.message)]
    assert output.stat().st_size > 0


@needs_cuda
def test_translate_on_cuda_picks_the_kernels_and_eager_means_reference_ops(tmp_path, capsys):
    pytest.importorskip("triton")
    from munit_fast.cli.main import main
    from tests.conftest import SAMPLE_IMAGES

    for backend, name in (("auto", "triton-fp32"), ("eager", "eager-fp32")):
        assert main(["translate", "--input", SAMPLE_IMAGES, "--output", str(tmp_path / backend), "--device", "cuda",
                     "--backend", backend]) == 0
        assert f"with {name}" in capsys.readouterr().out
