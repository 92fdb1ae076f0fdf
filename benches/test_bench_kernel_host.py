"""Host time of one fused-normalization call: what a caller launching the model from Python
(training, or inference without --cuda-graphs) pays per norm before the GPU sees any work.

    pytest benches/test_bench_kernel_host.py --benchmark-only

On CUDA the real kernels run, calls launched back to back with one synchronization per round:
the GPU work at these shapes (4-15 µs) is shorter than the launch path, so the host sets the
pace. On a CPU the kernel launches are replaced by no-ops (Triton would run the kernels in its
interpreter, which measures nothing), so the time is munit-fast's own launcher code alone:
dispatch, layouts, allocations and argument marshalling, without Triton's launch.
extra_info: us_per_call, what was timed, hardware.
"""
from __future__ import annotations

import pytest
import torch
from kernel_bench import CUDA, DEVICE, hardware

from munit_fast.kernels import adain, instance_norm, norm_elementwise, norm_fused, norm_split, triton_available

pytestmark = pytest.mark.skipif(not triton_available(), reason="the launch path needs Triton installed")

CALLS = 200  # per benchmark round
# Every Triton kernel object the launchers index with a grid, by the module that holds it.
KERNELS = {
    norm_fused: ("_fused_forward_kernel", "_fused_backward_kernel"),
    norm_split: ("_partial_sums_kernel", "_finalize_stats_kernel", "_partial_grad_sums_kernel",
                 "_finalize_grad_kernel"),
    norm_elementwise: ("_normalize_nchw", "_normalize_channels_last", "_normalize_backward_nchw",
                       "_normalize_backward_channels_last"),
}


class _NoLaunch:
    """Stands in for a Triton kernel: ``kernel[grid](*args, **meta)`` does nothing."""

    def __getitem__(self, grid):
        return self._launch

    @staticmethod
    def _launch(*args, **meta):
        return None


@pytest.fixture
def launch_path(monkeypatch):
    """On CPU: kernels replaced by no-ops, and Triton's interpreter named so dispatch takes the
    Triton path for CPU tensors. On CUDA: unchanged."""
    if CUDA:
        return "real kernels, launched back to back"
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    for module, names in KERNELS.items():
        for name in names:
            monkeypatch.setattr(module, name, _NoLaunch())
    return "munit-fast's launcher code, kernel launches replaced by no-ops"


def _cases():
    def adain_call(shape, grad):
        def make():
            x = torch.randn(shape, device=DEVICE, requires_grad=grad)
            scale, bias = (torch.randn(shape[:2], device=DEVICE, requires_grad=grad) for _ in range(2))
            residual = torch.randn(shape, device=DEVICE)
            return lambda: adain(x, scale, bias, "relu", residual, impl="triton")
        return make

    def instance_norm_call(shape):
        def make():
            x = torch.randn(shape, device=DEVICE)
            return lambda: instance_norm(x, "relu", impl="triton")
        return make

    return [
        pytest.param(adain_call((1, 256, 64, 64), False), marks=pytest.mark.quick, id="adain-res-256px-b1-inference"),
        pytest.param(adain_call((1, 256, 64, 64), True), marks=pytest.mark.quick, id="adain-res-256px-b1-autograd"),
        pytest.param(instance_norm_call((1, 64, 256, 256)), marks=pytest.mark.quick, id="instance-norm-enc-in-256px"),
    ]


@pytest.mark.parametrize("make_call", _cases())
def test_host_time_per_call(benchmark, make_call, launch_path):
    call = make_call()

    def round_of_calls():
        for _ in range(CALLS):
            call()
        if CUDA:
            torch.cuda.synchronize()

    round_of_calls()  # warm-up: autotuning and compilation stay out of the timing
    benchmark(round_of_calls)
    benchmark.extra_info.update(timed=launch_path, calls_per_round=CALLS, hardware=hardware())
    stats = getattr(benchmark, "stats", None)
    if stats is not None and stats.stats.median > 0:
        benchmark.extra_info["us_per_call"] = stats.stats.median / CALLS * 1e6
