"""Mixed precision: bf16 autocast on CPU, fp16 with gradient scalers on CUDA."""
from __future__ import annotations

import pytest
import torch

from munit_fast.checkpoint import load_discriminators, load_generator_state
from munit_fast.config import apply_overrides
from munit_fast.training import MUNITTrainer
from tests.conftest import REFERENCE

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def _reference_trainer(config, device="cpu", precision="fp32"):
    trainer = MUNITTrainer(config, device, precision)
    load_generator_state(trainer.gen_a, trainer.gen_b, f"{REFERENCE}/gen_00000001.pt")
    load_discriminators(trainer.dis_a, trainer.dis_b, f"{REFERENCE}/dis_00000001.pt")
    return trainer


def test_bf16_losses_stay_close_to_fp32(reference_config, reference_tensors):
    t = reference_tensors
    inputs = (t["x_a"], t["x_b"], t["s_a"], t["s_b"])
    fp32 = _reference_trainer(reference_config).compute_losses(*inputs)
    bf16 = _reference_trainer(reference_config, precision="bf16").compute_losses(*inputs)
    for name, value in fp32.items():
        if value.item() == 0.0:
            continue
        # bf16 keeps 8 mantissa bits (0.4% per rounding); statistics and loss reductions stay fp32,
        # so each loss lands within a few percent of fp32
        assert abs(bf16[name].item() - value.item()) <= 0.05 * abs(value.item()), name


@pytest.mark.parametrize("gan_type", ["lsgan", "nsgan"])
def test_bf16_training_keeps_fp32_weights_and_finite_losses(training_config, gan_type):
    trainer = MUNITTrainer(apply_overrides(training_config, [f"dis.gan_type={gan_type}"]), precision="bf16")
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    before = trainer.gen_a.dec.model[-1].conv.weight.detach().clone()
    losses = trainer.iterate(x, x.flip(3))
    assert all(bool(torch.isfinite(v)) for v in losses.values())
    assert trainer.gen_a.dec.model[-1].conv.weight.dtype == torch.float32
    assert not torch.equal(before, trainer.gen_a.dec.model[-1].conv.weight)


@needs_cuda
@pytest.mark.parametrize("gan_type", ["lsgan", "nsgan"])
@pytest.mark.parametrize("precision", ["fp16", "bf16", "fp32"])
def test_cuda_iteration(training_config, precision, gan_type):
    trainer = MUNITTrainer(apply_overrides(training_config, [f"dis.gan_type={gan_type}"]), "cuda", precision)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    for dis_fakes in ("reuse", "recompute"):
        trainer.dis_fakes = dis_fakes
        losses = trainer.iterate(x, x.flip(3))
        assert all(bool(torch.isfinite(v)) for v in losses.values())
    assert (trainer.gen_scaler is not None) == (precision == "fp16")


@needs_cuda
def test_cuda_fp32_losses_match_cpu(reference_config, reference_tensors):
    t = reference_tensors
    inputs = (t["x_a"], t["x_b"], t["s_a"], t["s_b"])
    cpu = _reference_trainer(reference_config).compute_losses(*inputs)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    gpu = _reference_trainer(reference_config, "cuda").compute_losses(*inputs)
    for name, value in cpu.items():
        # fp32 on both, TF32 off: only summation order differs (observed ~1e-6 relative)
        assert gpu[name].item() == pytest.approx(value.item(), rel=1e-4, abs=1e-6), name
