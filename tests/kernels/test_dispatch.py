"""Choosing the kernel path: automatic fallback, the environment override, Triton optional."""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from kernel_checks import make, requires_triton

from munit_fast.errors import MunitError
from munit_fast.kernels import adain, adain_ref, resolve_impl, triton_available


def test_auto_uses_triton_only_on_cuda():
    x = make((1, 2, 3, 3))
    assert resolve_impl("auto", x) == ("triton" if x.is_cuda else "ref")
    assert resolve_impl("ref", x) == "ref"


@requires_triton
def test_environment_variable_forces_the_path(monkeypatch):
    x = make((1, 2, 3, 3))
    monkeypatch.setenv("MUNIT_FAST_KERNELS", "ref")
    assert resolve_impl("auto", x) == "ref"
    monkeypatch.setenv("MUNIT_FAST_KERNELS", "triton")
    assert resolve_impl("auto", x) == "triton"
    assert resolve_impl("ref", x) == "ref"  # an explicit impl wins over the variable


def test_bad_environment_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("MUNIT_FAST_KERNELS", "fast")
    with pytest.raises(MunitError, match="MUNIT_FAST_KERNELS='fast'"):
        resolve_impl("auto", make((1, 2, 3, 3)))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU refusal")
def test_forcing_triton_without_a_gpu_or_interpreter_is_refused(monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    with pytest.raises(MunitError, match="needs Triton and a CUDA tensor"):
        resolve_impl("triton", make((1, 2, 3, 3)))


def test_unknown_impl_is_refused():
    with pytest.raises(ValueError, match="impl must be one of"):
        resolve_impl("cuda", make((1, 2, 3, 3)))


def test_kernels_import_and_fall_back_without_triton():
    """``import munit_fast.kernels`` works where Triton is missing; "auto" runs the reference."""
    script = (
        "import sys; sys.modules['triton'] = None\n"
        "import torch\n"
        "from munit_fast import kernels\n"
        "assert not kernels.triton_available()\n"
        "x, s = torch.randn(2, 3, 4, 4), torch.randn(2, 3)\n"
        "torch.testing.assert_close(kernels.adain(x, s, s, 'relu'), kernels.adain_ref(x, s, s, 'relu'))\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, env={"TRITON_INTERPRET": "0", "PATH": ""})


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning")
def test_tracing_sees_the_reference_ops():
    """Exports trace standard operators: under torch.jit.trace the reference path runs."""
    x, scale, bias = make((1, 2, 4, 4)), make((1, 2)), make((1, 2))
    traced = torch.jit.trace(lambda x, s, b: adain(x, s, b, "relu", impl="auto"), (x, scale, bias))
    graph = str(traced.graph)
    assert "instance_norm" in graph
    torch.testing.assert_close(traced(x, scale, bias), adain_ref(x, scale, bias, "relu"))


@requires_triton
def test_backend_names_say_whether_the_kernels_run(monkeypatch, reference_generators):
    """A backend's name says whether its normalizations run the Triton kernels: the default (the
    reference ops) never, `auto` on CUDA only, `triton` always (in the interpreter on a CPU),
    MUNIT_FAST_KERNELS=ref never."""
    from munit_fast.runtime import EagerBackend

    device = "cuda" if torch.cuda.is_available() else "cpu"
    assert EagerBackend(*reference_generators, device=device).name == "eager-fp32"  # the reference ops everywhere
    assert EagerBackend(*reference_generators, device=device, kernels="triton").name == "triton-fp32"
    auto = EagerBackend(*reference_generators, device=device, kernels="auto").name
    assert auto == ("triton-fp32" if device == "cuda" else "eager-fp32")
    monkeypatch.setenv("MUNIT_FAST_KERNELS", "ref")
    assert EagerBackend(*reference_generators, device=device, kernels="auto").name == "eager-fp32"


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning", "ignore::UserWarning")
@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript-exporter", "dynamo-exporter"])
def test_both_onnx_exporters_see_the_reference_ops(dynamo, tmp_path):
    """Dispatch does not ask torch.onnx whether it is exporting (host time on every call): both
    exporters run the model under tracing or compiling, which it does check."""
    seen = []

    class Probe(torch.nn.Module):
        def forward(self, x):
            seen.append(resolve_impl("triton" if triton_available() else "auto", x))
            return x + 1

    torch.onnx.export(Probe(), (torch.ones(1, 2, 3, 3),), str(tmp_path / "probe.onnx"), dynamo=dynamo)
    assert seen and set(seen) == {"ref"}
