"""Translation grid: backend x precision x resolution x styles per frame, full-size generator.

Every case is timed against the "original" baseline measured in the same run: the reference
model (eager fp32, decoder computed exactly as the original) run the way the original code
runs it, one style per call, i.e. K styles = K separate translations. extra_info records the
model GFLOP per frame (of the original algorithm), effective GFLOP/s, the max abs error and
PSNR against the fp32 reference output, and the backend's name.

    pytest benches/test_bench_translate.py --benchmark-only [--quick | --run-slow]
    munit-fast bench --report .benchmarks/.../0001_*.json     # the markdown table
"""
from __future__ import annotations

import functools
import os

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from munit_fast.checkpoint import build_generators
from munit_fast.config import config_from_dict
from munit_fast.runtime import EagerBackend, Translator

CUDA = torch.cuda.is_available()
DEVICE = "cuda" if CUDA else "cpu"

RESOLUTIONS = [(256, 256), (512, 512), (720, 1280), (1080, 1920)]
STYLES = [1, 4, 8]
# backend name -> (EagerBackend options, devices it runs on)
BACKENDS = {
    "original": (dict(polyphase=False, kernels="ref"), ("cpu", "cuda")),
    # "eager" rows run the PyTorch reference ops (kernels="ref"); "triton" rows the fused kernels.
    "eager-fp32": (dict(channels_last=True, kernels="ref"), ("cpu", "cuda")),
    "eager-fp32-nchw": (dict(kernels="ref"), ("cpu",)),  # on CPUs both layouts are worth measuring
    "eager-bf16": (dict(precision="bf16", channels_last=True, kernels="ref"), ("cpu", "cuda")),
    "eager-fp16": (dict(precision="fp16", channels_last=True, kernels="ref"), ("cuda",)),
    "triton-fp16": (dict(precision="fp16", channels_last=True, kernels="triton"), ("cuda",)),
    # Replayed from CUDA graphs in both layouts: on the H200 the graphed generator with the kernels
    # was faster in NCHW at batch 1 and in channels_last at batch 4.
    "eager-fp16-nchw-graphs": (dict(precision="fp16", kernels="ref", cuda_graphs=True), ("cuda",)),
    "triton-fp16-nchw-graphs": (dict(precision="fp16", kernels="triton", cuda_graphs=True), ("cuda",)),
    "triton-fp16-graphs": (dict(precision="fp16", channels_last=True, kernels="triton", cuda_graphs=True), ("cuda",)),
    "compile-fp16": (dict(precision="fp16", channels_last=True, compile=True), ("cuda",)),
    "compile-fp32": (dict(channels_last=True, compile=True), ("cpu",)),
    "onnx-fp32": (None, ("cpu",)),  # ONNX Runtime (CPU execution provider) on the exported split graphs
    # OpenVINO (CPU plugin) on IR of the same split graphs; int8 quantized by NNCF on the default
    # calibration set of a config without data (noise images, as the bench's input is).
    "openvino-fp32": (None, ("cpu",)),
    "openvino-bf16": (None, ("cpu",)),
    "openvino-int8": (None, ("cpu",)),
}
EXPORTED = {"onnx-fp32": ("onnx", "fp32"), "openvino-fp32": ("openvino", "fp32"),
            "openvino-bf16": ("openvino", "bf16"), "openvino-int8": ("openvino", "int8")}
CPU_SIZED = ("eager-bf16", "compile-fp32", "openvino-fp32", "openvino-bf16", "openvino-int8")  # 256x256 on a CPU
# Rounds per case: 5, except on a CPU for calls of several seconds (K > 1, bf16), which take 2.
ROUNDS, SLOW_CPU_ROUNDS = 5, 2
QUICK_BACKENDS = ("original", "eager-fp32")  # the CI-sized subset: 256x256, one style


def grid():
    """Every (backend, resolution, styles) case with its markers: quick for the CI subset, slow
    for the resolutions above 256x256 and K=4 (a GPU-sized grid; on a CPU run with --run-slow)."""
    for backend in BACKENDS:
        for size in RESOLUTIONS:
            for styles in STYLES:
                marks = []
                if backend in QUICK_BACKENDS and size == (256, 256) and styles == 1:
                    marks.append(pytest.mark.quick)
                if size != (256, 256) or styles == 4:
                    marks.append(pytest.mark.slow)
                yield pytest.param(backend, size, styles, marks=marks, id=f"{backend}-{size[0]}x{size[1]}-K{styles}")


@functools.lru_cache(maxsize=None)
def generators():
    torch.manual_seed(0)
    gen_a, gen_b = build_generators(config_from_dict({}))
    return gen_a.eval(), gen_b.eval()


@functools.lru_cache(maxsize=None)
def translator(backend: str) -> Translator:
    options, _ = BACKENDS[backend]
    if options is None:
        return exported_translator(*EXPORTED[backend])
    return Translator(EagerBackend(*generators(), device=DEVICE, **options))


@functools.lru_cache(maxsize=None)
def bench_checkpoint() -> str:
    """The bench's weights as a checkpoint file, for the backends that export from one."""
    import tempfile

    from munit_fast.checkpoint import save_generators

    folder = tempfile.mkdtemp(prefix="munit-fast-bench-")
    checkpoint = os.path.join(folder, "gen.pt")
    save_generators(*generators(), checkpoint)
    return checkpoint


def exported_translator(name: str, precision: str) -> Translator:
    """The same weights through ``munit-fast translate --backend onnx|openvino`` (artifacts built once
    into a temp folder)."""
    needs = {"onnx": ("onnxruntime", "export"), "openvino": ("openvino", "openvino")}[name]
    pytest.importorskip(needs[0], reason=f"{name} rows need {needs[0]} (pip install munit-fast[{needs[1]}])")
    import warnings

    from munit_fast.runtime.factory import build_translator

    checkpoint = bench_checkpoint()
    folder = os.path.dirname(checkpoint)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # int8's calibration on noise: as the bench's inputs are
        return build_translator(config_from_dict({}), checkpoint, "a2b", name, DEVICE, precision, onnx_dir=folder,
                                openvino_dir=os.path.join(folder, "openvino"))


@functools.lru_cache(maxsize=None)
def inputs(size, styles):
    generator = torch.Generator().manual_seed(1)
    image = (torch.rand(1, 3, *size, generator=generator) * 2 - 1).to(DEVICE)
    return image, torch.randn(styles, 8, generator=generator)


@functools.lru_cache(maxsize=None)
def reference_output(size, styles):
    image, codes = inputs(size, styles)
    return translator("original").translate(image, codes).float().cpu()


@functools.lru_cache(maxsize=None)
def model_gflop(size) -> float:
    """GFLOP of one translation (content encode + decode) with the original algorithm."""
    image, codes = inputs(size, 1)
    counter = FlopCounterMode(display=False)
    with counter:
        translator("original").translate(image, codes)
    return counter.get_total_flops() / 1e9


def sync():
    if CUDA:
        torch.cuda.synchronize()


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = (a.double() - b.double()).pow(2).mean().item()
    return float("inf") if mse == 0 else 10 * np.log10(4.0 / mse)


@pytest.mark.parametrize("backend, size, styles", list(grid()))
def test_translate(benchmark, backend, size, styles):
    _, devices = BACKENDS[backend]
    if DEVICE not in devices:
        pytest.skip(f"{backend} is not measured on {DEVICE}" + ("" if CUDA else ": it needs CUDA"))
    if not CUDA and backend in ("eager-bf16", "compile-fp32") and (styles != 1 or size != (256, 256)):
        pytest.skip(f"{backend} on CPU is measured at 256x256, K=1 only (a CPU-sized grid)")
    if not CUDA and backend in CPU_SIZED and size != (256, 256):
        pytest.skip(f"{backend} on CPU is measured at 256x256 only (a CPU-sized grid)")
    image, codes = inputs(size, styles)
    tr = translator(backend)
    if backend == "original":
        def run():  # the original: one translation per style
            for k in range(styles):
                tr.translate(image, codes[k:k + 1])
            sync()
    else:
        def run():
            tr.translate(image, codes)
            sync()
    run()  # warm-up (and compilation)
    rounds = SLOW_CPU_ROUNDS if not CUDA and (styles > 1 or backend == "eager-bf16") else ROUNDS
    benchmark.pedantic(run, rounds=rounds, iterations=1, warmup_rounds=0)
    output = tr.translate(image, codes).float().cpu()
    reference = reference_output(size, styles)
    gflop = model_gflop(size) * styles
    error = float((output - reference).abs().max())
    # true fp32 only off CUDA (CUDA convolutions default to TF32)
    if backend in ("original", "eager-fp32", "eager-fp32-nchw") and not CUDA:
        assert error <= 1e-4, f"{backend}: fp32 paths must agree with the reference, max error {error}"
    benchmark.extra_info.update(
        backend=backend, resolution=f"{size[0]}x{size[1]}", styles=styles, device=DEVICE,
        gflop_per_call=round(gflop, 2), max_abs_error=error, psnr_db=round(psnr(output, reference), 2),
    )
    if benchmark.stats is not None:  # None under --benchmark-disable (one unmeasured call)
        benchmark.extra_info["effective_gflops"] = round(gflop / benchmark.stats.stats.median, 2)
