"""The full generator (dim 64, 4 res blocks) translating 256x256 images in fp16, with and without
the fused kernels: content encode + decode with one style per image. Each case runs launched
from Python ("launch") and replayed from a CUDA graph ("graph"): at this size the launches
take longer than the GPU work, so only the graphed rows show the kernels' own effect.

    pytest benches/test_bench_generator_kernels.py            # CUDA; skipped on CPU
    pytest benches/test_bench_generator_kernels.py --benchmark-disable

The fp16 comparison needs CUDA: on CPU the kernels run only in Triton's interpreter.
extra_info: images/s, max abs error against the fp32 reference generator, hardware.
"""
from __future__ import annotations

import copy

import pytest
import torch
from kernel_bench import CUDA, DEVICE, hardware

from munit_fast.checkpoint import build_generators
from munit_fast.config import config_from_dict
from munit_fast.runtime.cuda_graphs import GraphedFunction

pytestmark = pytest.mark.skipif(not CUDA, reason="the fp16 generator comparison needs CUDA")


@pytest.fixture(scope="module")
def generators():
    """fp32 reference generator and its fp16 copy, random weights (speed does not depend on them)."""
    gen, _ = build_generators(config_from_dict({"gen": {"dim": 64, "mlp_dim": 256, "n_res": 4}}))
    gen = gen.to(DEVICE).eval().set_kernel_impl("ref")
    return gen, copy.deepcopy(gen).half()


@pytest.mark.parametrize("launch", ["launch", "graph"])
@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("layout", ["nchw", "channels_last"])
@pytest.mark.parametrize("impl", ["ref", "triton"])
def test_generator_fp16(benchmark, generators, impl, layout, batch, launch):
    reference, gen = generators
    gen.set_kernel_impl(impl)
    memory_format = torch.channels_last if layout == "channels_last" else torch.contiguous_format
    gen.to(memory_format=memory_format)
    images = torch.rand(batch, 3, 256, 256, device=DEVICE).mul(2).sub(1)
    styles = torch.randn(batch, gen.style_dim, 1, 1, device=DEVICE)

    def translate(fp16_images, fp16_styles):
        return gen.decode(gen.encode_content(fp16_images), fp16_styles)

    translate_fn = GraphedFunction(translate) if launch == "graph" else translate

    @torch.no_grad()
    def run():
        out = translate_fn(images.half().to(memory_format=memory_format), styles.half())
        torch.cuda.synchronize()
        return out

    with torch.no_grad():
        error = (run().float() - reference.decode(reference.encode_content(images), styles)).abs().max().item()
    benchmark(run)
    benchmark.extra_info.update(impl=impl, layout=layout, batch=batch, launch=launch, hardware=hardware(),
                                max_abs_error_vs_fp32_ref=error)
    stats = getattr(benchmark, "stats", None)
    if stats is not None and stats.stats.median > 0:
        benchmark.extra_info["images/s"] = batch / stats.stats.median


# The fused normalization kernels (kernels/norm_*.py) as the profiler names them.
NORM_KERNELS = ("_fused_forward_kernel", "_partial_sums_kernel", "_finalize_stats_kernel", "_normalize_kernel")


@pytest.mark.parametrize("batch", [1, 4])
def test_generator_fp16_time_by_kernel(benchmark, generators, batch):
    """Where the kernels' generator spends its device time: the fused normalizations' share
    bounds what folding them into the convolutions (a Triton convolution accumulating the next
    norm's statistics in its epilogue) could ever save. Kernel device times from the profiler."""
    from torch.profiler import ProfilerActivity, profile

    _, gen = generators
    gen.set_kernel_impl("triton").to(memory_format=torch.contiguous_format)
    images = torch.rand(batch, 3, 256, 256, device=DEVICE, dtype=torch.half).mul(2).sub(1)
    styles = torch.randn(batch, gen.style_dim, 1, 1, device=DEVICE, dtype=torch.half)

    @torch.no_grad()
    def run():
        out = gen.decode(gen.encode_content(images), styles)
        torch.cuda.synchronize()
        return out

    run()  # autotuning stays out of the profile
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        run()
    kernels = [(e.key, e.self_device_time_total) for e in prof.key_averages()
               if e.device_type == torch.autograd.DeviceType.CUDA and e.self_device_time_total > 0]
    total = sum(us for _, us in kernels)
    norm = sum(us for name, us in kernels if any(k in name for k in NORM_KERNELS))
    assert total > 0 and norm > 0, f"no fused normalization kernel in the profile: {sorted(kernels)[:5]}"
    benchmark.pedantic(run, rounds=5)
    top = sorted(kernels, key=lambda kernel: -kernel[1])[:8]
    benchmark.extra_info.update(batch=batch, hardware=hardware(), kernel_us_total=total, norm_kernel_us=norm,
                                norm_share=norm / total, top_kernels_us=[[name[:80], us] for name, us in top])
