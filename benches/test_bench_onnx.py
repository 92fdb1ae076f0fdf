"""One translation (content encode + decode with one style): ONNX Runtime CPU against PyTorch eager
fp32 and the fastest PyTorch CPU path (eager bf16 convolutions, channels_last), side by side.

    pytest benches/test_bench_onnx.py -m quick               # tiny model at 64x64
    pytest benches/test_bench_onnx.py -m slow                # full-size generator (dim 64, 4 res blocks) at 256x256
    pytest benches/test_bench_onnx.py --benchmark-disable    # one pass each, error checks only

Random weights (speed does not depend on them). extra_info: GFLOP per translation (PyTorch's
flop counter), GFLOP/s at the median, max abs error against the PyTorch fp32 output, hardware.
"""
from __future__ import annotations

import copy
import os
import platform

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from munit_fast.checkpoint import build_generators
from munit_fast.config import config_from_dict
from munit_fast.export import export_onnx
from munit_fast.runtime.backends.eager import EagerBackend
from munit_fast.runtime.backends.onnxruntime import OrtBackend

SIZES = {  # name: (gen config, image size)
    "tiny-64": ({"dim": 8, "mlp_dim": 32, "n_res": 2}, 64),
    "full-256": ({"dim": 64, "mlp_dim": 256, "n_res": 4}, 256),
}
BACKENDS = ("onnx-cpu-fp32", "eager-fp32", "eager-bf16-channels_last")
# bf16 keeps an 8-bit mantissa: its bound is loose, the fp32 ones tight
MAX_ERROR = {"onnx-cpu-fp32": 1e-4, "eager-fp32": 1e-5, "eager-bf16-channels_last": 0.1}
CASES = [pytest.param(size, backend, marks=pytest.mark.quick if size == "tiny-64" else pytest.mark.slow,
                      id=f"{size}-{backend}") for size in SIZES for backend in BACKENDS]


def hardware() -> str:
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {os.cpu_count()} CPUs, torch {torch.__version__}, {torch.get_num_threads()} threads"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """size -> (gen_a, gen_b, {precision: onnx graphs}), built on first use."""
    cache = {}

    def get(size):
        if size not in cache:
            gen, _ = SIZES[size]
            config = config_from_dict({"gen": dict(gen, style_dim=8, activ="relu", n_downsample=2, pad_type="reflect")})
            gen_a, gen_b = (g.eval() for g in build_generators(config))
            folder = str(tmp_path_factory.mktemp(f"onnx-{size}"))
            cache[size] = gen_a, gen_b, export_onnx(gen_a, gen_b, folder, parts=["content_encoder", "style_encoder",
                                                                                  "decoder"])
        return cache[size]

    return get


def make_backend(name, gen_a, gen_b, graphs):
    if name == "onnx-cpu-fp32":
        return OrtBackend(graphs)
    gen_a, gen_b = copy.deepcopy(gen_a), copy.deepcopy(gen_b)  # EagerBackend casts its modules in place
    if name == "eager-fp32":
        return EagerBackend(gen_a, gen_b)
    return EagerBackend(gen_a, gen_b, precision="bf16", channels_last=True)


@pytest.mark.parametrize("size,backend_name", CASES)
def test_bench_onnx_translate(benchmark, models, size, backend_name):
    gen_a, gen_b, graphs = models(size)
    side = SIZES[size][1]
    image = torch.rand(1, 3, side, side, generator=torch.Generator().manual_seed(0)) * 2 - 1
    style = torch.randn(1, 8, generator=torch.Generator().manual_seed(1))
    backend = make_backend(backend_name, gen_a, gen_b, graphs)

    def translate():
        return backend.decode(backend.encode_content(image), style)

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        reference = gen_b.decode(gen_a.encode_content(image), style)
    out = benchmark(translate)
    error = (out.float() - reference).abs().max().item()
    gflop = counter.get_total_flops() / 1e9
    benchmark.extra_info.update(backend=backend_name, size=f"{side}x{side}", gflop=round(gflop, 2),
                                max_abs_error_vs_fp32=error, hardware=hardware())
    if benchmark.stats is not None:
        benchmark.extra_info["gflop_per_s"] = round(gflop / benchmark.stats.stats.median, 1)
    assert error <= MAX_ERROR[backend_name], f"{backend_name}: max error {error:.3g} vs PyTorch fp32"
