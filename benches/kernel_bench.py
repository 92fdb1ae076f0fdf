"""Shared by the kernel benchmarks: backends, the MUNIT shape grid, timing and extra_info.

Backends: "eager" (the PyTorch reference), "compile" (torch.compile of the reference),
"triton" (the fused kernels) and "stream" (forward only: one elementwise PyTorch op that moves
the same bytes with no reduction, e.g. x + residual; the bandwidth a memory-bound kernel of this
size can reach on this GPU, measured the same way). Without CUDA only "eager" runs: the Triton
kernels run only in the CPU interpreter there, which measures nothing, and torch.compile's
comparison target is the GPU. GB/s counts the bytes an ideal kernel must move (each input read
once, each output written once) divided by the time per call. On CUDA the time is device time
(a round replays a CUDA graph of GRAPH_CALLS calls, forward or forward + backward, so launch
overhead stays out, as it does for a graphed translator) and the calls cycle through copies of
the inputs larger than the L2 cache together, so GB/s is DRAM bandwidth; the synchronized eager
call's wall time is recorded beside it as host_ms_per_call.
"""
from __future__ import annotations

import os
import platform
import statistics
import time
from typing import Callable, List, Optional, Sequence

import pytest
import torch

CUDA = torch.cuda.is_available()
DEVICE = torch.device("cuda" if CUDA else "cpu")
BACKENDS = ("eager", "compile", "triton", "stream")
MODES = ("fwd", "fwd_bwd")
# (backend, mode) cases: the stream ceiling is a forward-traffic reference, so it has no fwd_bwd case.
BACKEND_MODES = [pytest.param(backend, mode, id=f"{backend}-{mode}")
                 for backend in BACKENDS for mode in MODES if backend != "stream" or mode == "fwd"]
# Calls per CUDA graph replay in the device-time measurement.
GRAPH_CALLS = 20

# (B, C, H, W) at MUNIT's normalizations; the first is the CI-sized case.
SHAPES = [
    pytest.param((1, 256, 64, 64), marks=pytest.mark.quick, id="res-256px-b1"),  # res blocks, 256x256 image
    pytest.param((8, 256, 64, 64), marks=pytest.mark.slow, id="res-256px-b8"),  # a training batch / 8 styles
    pytest.param((1, 64, 256, 256), marks=pytest.mark.slow, id="enc-in-256px"),  # first encoder layer
    pytest.param((4, 256, 68, 120), marks=pytest.mark.slow, id="res-270x480-b4"),  # video frames, 4 styles
    pytest.param((1, 64, 270, 480), marks=pytest.mark.slow, id="enc-in-270x480"),
]
DTYPES = [pytest.param(torch.float16, id="fp16"), pytest.param(torch.float32, id="fp32")]


def hardware() -> str:
    if CUDA:
        return f"{torch.cuda.get_device_name()}, torch {torch.__version__}"
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}"


def skip_unavailable(backend: str, dtype: torch.dtype) -> None:
    if backend != "eager" and not CUDA:
        pytest.skip(f"{backend} is measured on CUDA only: on CPU Triton runs in its interpreter and "
                    "torch.compile is not the comparison target")
    if dtype == torch.float16 and not CUDA:
        pytest.skip("fp16 normalization is a GPU format; the CPU runs the fp32 cases")


def op_for(backend: str, fast: Callable, ref: Callable, stream: Callable) -> Callable:
    if backend == "triton":
        return fast
    if backend == "stream":
        return stream
    if backend == "compile":
        torch._dynamo.reset()  # a fresh, static-shape graph per case: no recompile limit, no dynamic shapes
        return torch.compile(ref, dynamic=False)
    return ref


def step(op: Callable, inputs: Sequence[torch.Tensor], mode: str) -> Callable[[], None]:
    """One call without synchronizing: forward, or forward + backward into every input that requires grad."""
    grad = None

    def run():
        nonlocal grad
        y = op(*inputs)
        if mode == "fwd_bwd":
            grad = torch.ones_like(y) if grad is None else grad
            torch.autograd.grad(y, [t for t in inputs if t is not None and t.requires_grad], grad)

    return run


def synchronized(run: Callable[[], None]) -> Callable[[], None]:
    def call():
        run()
        if CUDA:
            torch.cuda.synchronize()

    return call


def input_copies(inputs: Sequence[torch.Tensor]) -> List[Sequence[torch.Tensor]]:
    """The inputs and enough copies of them to exceed twice the GPU's L2 cache: calls cycle
    through the copies, so every call reads its inputs from DRAM, not from the cache."""
    if not CUDA:
        return [inputs]
    size = sum(t.numel() * t.element_size() for t in inputs if t is not None)
    l2 = getattr(torch.cuda.get_device_properties(0), "L2_cache_size", 64 * 2**20)
    count = max(1, min(GRAPH_CALLS, -(-2 * l2 // size)))

    def copy(t):
        return None if t is None else t.detach().clone().requires_grad_(t.requires_grad)

    return [inputs] + [[copy(t) for t in inputs] for _ in range(count - 1)]


def graph_replay(runs: Sequence[Callable[[], None]], calls: int) -> Callable[[], None]:
    """``calls`` back-to-back calls (cycling through ``runs``) captured in one CUDA graph:
    replaying it measures the GPU's time per call without the host's launch overhead."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for run in runs:
            run()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for i in range(calls):
            runs[i % len(runs)]()

    def replay():
        graph.replay()
        torch.cuda.synchronize()

    return replay


def host_ms_per_call(run: Callable[[], None], repeats: int = 20) -> float:
    """Median wall time of one synchronized call: what an eager caller waits, launches included."""
    call = synchronized(run)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def back_to_back(runs: Sequence[Callable[[], None]], calls: int) -> Callable[[], None]:
    """``calls`` calls (cycling through ``runs``) launched back to back, one synchronization:
    the host's launches overlap the GPU's work, so a round takes the slower of the two."""
    def calls_then_sync():
        for i in range(calls):
            runs[i % len(runs)]()
        torch.cuda.synchronize()

    return calls_then_sync


def record(benchmark, fn: Callable, inputs: Sequence[torch.Tensor], mode: str, bytes_moved: int,
           max_error: Optional[float], **info) -> None:
    """Time ``fn(*inputs)`` (``mode`` "fwd" or "fwd_bwd") and store the per-call time, GB/s,
    max error and the hardware in extra_info.

    On CUDA a benchmark round is GRAPH_CALLS calls cycling through copies of the inputs larger
    than the L2 cache together (DRAM traffic, as in a real network), replayed from a CUDA graph
    (device time, launch overhead excluded; the backward pass is captured too); where capture
    fails the calls are launched back to back and the reason is recorded. The synchronized
    eager call is timed beside them as host_ms_per_call. On CPU a round is one call.
    """
    run = step(fn, inputs, mode)
    synchronized(run)()  # warm-up: compilation and autotuning stay out of the timing
    calls, timed, timing = 1, synchronized(run), "wall time of one call"
    if CUDA:
        info["host_ms_per_call"] = host_ms_per_call(run)
        copies = input_copies(inputs)
        runs = [step(fn, copy, mode) for copy in copies]
        calls = GRAPH_CALLS
        timed = back_to_back(runs, calls)
        timing = f"stream time: a round launches {calls} calls back to back over {len(copies)} input copies"
        try:
            timed = graph_replay(runs, calls)
            timing = f"device time: a round replays a CUDA graph of {calls} calls over {len(copies)} input copies"
        except RuntimeError as error:  # measured as launched, with the reason on record
            timing += f" (CUDA graph capture failed: {str(error).splitlines()[0]})"
    benchmark(timed)
    benchmark.extra_info.update(info, mode=mode, hardware=hardware(), max_abs_error_vs_fp32_ref=max_error,
                                bytes_moved=bytes_moved, timing=timing, calls_per_round=calls)
    stats = getattr(benchmark, "stats", None)
    if stats is not None and stats.stats.median > 0:
        per_call = stats.stats.median / calls
        benchmark.extra_info["ms_per_call"] = per_call * 1e3
        benchmark.extra_info["GB/s"] = bytes_moved / per_call / 1e9


def max_error(backend: str, out: torch.Tensor, ref_fp32: torch.Tensor) -> Optional[float]:
    """Max abs error against the fp32 reference; None for the stream ceiling, which computes another function."""
    return None if backend == "stream" else (out.float() - ref_fp32).abs().max().item()
