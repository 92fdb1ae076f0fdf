"""One training iteration (scheduler step, D update, G update): munit-fast's default update
scheme ("reuse": the G step's detached fakes train D) against the original's ("recompute":
D decodes its own fakes), fp32 and bf16, a small and the full-size config; on CUDA with the
kernel path (auto: the Triton norms and padding, forward and backward) and the reference ops.

Recorded per case: ms per iteration (the benchmark), GFLOP per iteration (counted by
torch.utils.flop_counter on the same iteration), the largest relative loss error of the
precision against fp32 on the same weights, inputs and styles, and the hardware.

    pytest benches/test_bench_train.py -m quick            # small config
    pytest benches/test_bench_train.py -m slow             # full size (256x256, dim 64)
"""
from __future__ import annotations

import platform

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from munit_fast.config import config_from_dict
from munit_fast.model.generator import set_kernel_impl
from munit_fast.training import MUNITTrainer

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
SMALL = {"gen": {"dim": 8, "mlp_dim": 32, "n_res": 2}, "dis": {"dim": 8, "n_layer": 3, "num_scales": 2},
         "new_size": 64, "crop_image_height": 64, "crop_image_width": 64}
FULL = {}  # the original defaults: dim 64, 4 res blocks, 3-scale D, 256x256 crops
SIZES = [pytest.param(SMALL, id="small", marks=pytest.mark.quick),
         pytest.param(FULL, id="full", marks=pytest.mark.slow)]


def _hardware() -> str:
    if DEVICE == "cuda":
        return torch.cuda.get_device_name()
    return f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads"


def _sync():
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def _max_relative_loss_error(config, precision, x_a, x_b) -> float:
    """Largest |loss_precision - loss_fp32| / |loss_fp32| over the non-zero loss terms."""
    torch.manual_seed(0)
    reference = MUNITTrainer(config, DEVICE, "fp32")
    low = MUNITTrainer(config, DEVICE, precision)
    low.networks.load_state_dict(reference.networks.state_dict())
    s_a, s_b = reference.random_styles(x_a.shape[0])
    exact = reference.compute_losses(x_a, x_b, s_a, s_b)
    approx = low.compute_losses(x_a, x_b, s_a, s_b)
    return max(abs(approx[k].item() - v.item()) / abs(v.item()) for k, v in exact.items() if v.item() != 0.0)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("dis_fakes", ["reuse", "recompute"])
@pytest.mark.parametrize("kernels", ["auto", "ref"])
def test_bench_train_iteration(benchmark, size, precision, dis_fakes, kernels):
    if kernels == "ref" and DEVICE != "cuda":
        pytest.skip("on a CPU the auto kernel path is the reference already")
    config = config_from_dict(dict(size, batch_size=1))
    torch.manual_seed(0)
    trainer = MUNITTrainer(config, DEVICE, precision, dis_fakes)
    set_kernel_impl(trainer.networks, kernels)  # auto: the Triton norms and padding on CUDA
    shape = (config.batch_size, 3, config.crop_image_height, config.crop_image_width)
    x_a, x_b = (torch.rand(shape, device=DEVICE) * 2 - 1 for _ in range(2))

    def iteration():
        losses = trainer.iterate(x_a, x_b)
        _sync()
        return losses

    iteration()  # warm-up (allocator, autotuning)
    with FlopCounterMode(display=False) as counter:
        iteration()
    losses = benchmark(iteration)
    assert all(bool(torch.isfinite(v)) for v in losses.values())
    benchmark.extra_info.update({
        "gflop_per_iteration": counter.get_total_flops() / 1e9,
        "max_rel_loss_error_vs_fp32": (0.0 if precision == "fp32"
                                       else _max_relative_loss_error(config, precision, x_a, x_b)),
        "hardware": _hardware(), "device": DEVICE, "precision": precision, "dis_fakes": dis_fakes, "kernels": kernels,
        "image": f"{shape[2]}x{shape[3]}", "batch": shape[0],
    })
