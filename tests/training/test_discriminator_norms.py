"""Training with spectral-norm and BatchNorm discriminators, against a restatement of the original
trainer's rules (NVlabs/MUNIT trainer.py dis_update/gen_update, networks.py SpectralNorm).

The restatement below runs the original's update order on copies of the same initial weights:
D update (fresh styles, fakes detached, D on the fakes then the reals), then G update (fresh
styles, every loss term), Adam on both. Its spectral norm does what the original's does: one
power iteration per discriminator call, u and v rebound with ``.data =`` so that the backward of
the fake pass reads the vectors left by the real pass.
"""
from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from munit_fast.config import apply_overrides
from munit_fast.model.blocks import Conv2dBlock
from munit_fast.model.spectral_norm import SpectralNorm
from munit_fast.training import LOSS_NAMES, MUNITTrainer

PAD_MODES = {"reflect": "reflect", "replicate": "replicate", "zero": "constant"}


def _original_sn_weight(conv):
    """networks.py SpectralNorm._update_u_v, restated."""
    u, v, w = conv.weight_u, conv.weight_v, conv.weight_bar
    height = w.data.shape[0]
    v.data = torch.mv(w.view(height, -1).data.t(), u.data)
    v.data = v.data / (v.data.norm() + 1e-12)
    u.data = torch.mv(w.view(height, -1).data, v.data)
    u.data = u.data / (u.data.norm() + 1e-12)
    sigma = u.dot(w.view(height, -1).mv(v))
    return w / sigma.expand_as(w)


def _original_block(block, x, pad_type):
    x = F.pad(x, [block.pad.padding[0]] * 4 if isinstance(block.pad.padding, tuple) else [block.pad.padding] * 4,
              mode=PAD_MODES[pad_type])
    if isinstance(block.conv, SpectralNorm):
        conv = block.conv.module
        x = F.conv2d(x, _original_sn_weight(conv), conv.bias, conv.stride)
    else:
        x = F.conv2d(x, block.conv.weight, block.conv.bias, block.conv.stride)
    if block.norm is not None:  # BatchNorm2d (bn) in these tests: torch's own module, train mode
        x = block.norm(x)
    return F.leaky_relu(x, 0.2)


def original_dis_forward(dis, x, pad_type):
    outputs = []
    for cnn in dis.cnns:
        h = x
        for layer in cnn:
            h = _original_block(layer, h, pad_type) if isinstance(layer, Conv2dBlock) else layer(h)
        outputs.append(h)
        x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
    return outputs


def original_dis_loss(dis, fake, real, pad_type):
    outs0 = original_dis_forward(dis, fake, pad_type)
    outs1 = original_dis_forward(dis, real, pad_type)
    return sum(torch.mean(o0 ** 2) + torch.mean((o1 - 1) ** 2) for o0, o1 in zip(outs0, outs1))


def original_gen_adv(dis, fake, pad_type):
    return sum(torch.mean((o - 1) ** 2) for o in original_dis_forward(dis, fake, pad_type))


class OriginalRuleTrainer:
    """trainer.py's MUNIT_Trainer updates on copies of a munit-fast trainer's initial weights."""

    def __init__(self, trainer: MUNITTrainer):
        self.c = trainer.config
        self.gen_a, self.gen_b = copy.deepcopy(trainer.gen_a), copy.deepcopy(trainer.gen_b)
        self.dis_a, self.dis_b = copy.deepcopy(trainer.dis_a), copy.deepcopy(trainer.dis_b)
        betas, lr, wd = (self.c.beta1, self.c.beta2), self.c.lr, self.c.weight_decay
        dis_params = [p for p in list(self.dis_a.parameters()) + list(self.dis_b.parameters()) if p.requires_grad]
        gen_params = [p for p in list(self.gen_a.parameters()) + list(self.gen_b.parameters()) if p.requires_grad]
        self.dis_opt = torch.optim.Adam(dis_params, lr=lr, betas=betas, weight_decay=wd)
        self.gen_opt = torch.optim.Adam(gen_params, lr=lr, betas=betas, weight_decay=wd)
        self.style_dim = self.c.gen.style_dim

    def dis_update(self, x_a, x_b):
        self.dis_opt.zero_grad()
        s_a = torch.randn(x_a.size(0), self.style_dim, 1, 1)
        s_b = torch.randn(x_b.size(0), self.style_dim, 1, 1)
        c_a, _ = self.gen_a.encode(x_a)
        c_b, _ = self.gen_b.encode(x_b)
        x_ba, x_ab = self.gen_a.decode(c_b, s_a), self.gen_b.decode(c_a, s_b)
        pad = self.c.dis.pad_type
        loss_a = original_dis_loss(self.dis_a, x_ba.detach(), x_a, pad)
        loss_b = original_dis_loss(self.dis_b, x_ab.detach(), x_b, pad)
        total = self.c.gan_w * loss_a + self.c.gan_w * loss_b
        total.backward()
        self.dis_opt.step()
        return {"dis_a": loss_a, "dis_b": loss_b, "dis_total": total}

    def gen_update(self, x_a, x_b):
        self.gen_opt.zero_grad()
        s_a = torch.randn(x_a.size(0), self.style_dim, 1, 1)
        s_b = torch.randn(x_b.size(0), self.style_dim, 1, 1)
        c_a, s_a_prime = self.gen_a.encode(x_a)
        c_b, s_b_prime = self.gen_b.encode(x_b)
        x_a_recon, x_b_recon = self.gen_a.decode(c_a, s_a_prime), self.gen_b.decode(c_b, s_b_prime)
        x_ba, x_ab = self.gen_a.decode(c_b, s_a), self.gen_b.decode(c_a, s_b)
        c_b_recon, s_a_recon = self.gen_a.encode(x_ba)
        c_a_recon, s_b_recon = self.gen_b.encode(x_ab)
        l1 = lambda x, y: torch.mean(torch.abs(x - y))  # noqa: E731
        c, pad = self.c, self.c.dis.pad_type
        terms = {
            "gen_recon_x_a": l1(x_a_recon, x_a), "gen_recon_x_b": l1(x_b_recon, x_b),
            "gen_recon_s_a": l1(s_a_recon, s_a), "gen_recon_s_b": l1(s_b_recon, s_b),
            "gen_recon_c_a": l1(c_a_recon, c_a), "gen_recon_c_b": l1(c_b_recon, c_b),
            "gen_adv_a": original_gen_adv(self.dis_a, x_ba, pad), "gen_adv_b": original_gen_adv(self.dis_b, x_ab, pad),
        }
        total = (c.gan_w * terms["gen_adv_a"] + c.gan_w * terms["gen_adv_b"]
                 + c.recon_x_w * terms["gen_recon_x_a"] + c.recon_s_w * terms["gen_recon_s_a"]
                 + c.recon_c_w * terms["gen_recon_c_a"] + c.recon_x_w * terms["gen_recon_x_b"]
                 + c.recon_s_w * terms["gen_recon_s_b"] + c.recon_c_w * terms["gen_recon_c_b"])
        terms["gen_total"] = total
        total.backward()
        self.gen_opt.step()
        return terms


def _batches(count, channels=3, size=32):
    generator = torch.Generator().manual_seed(5)
    return [(torch.rand(2, channels, size, size, generator=generator) * 2 - 1,
             torch.rand(2, channels, size, size, generator=generator) * 2 - 1) for _ in range(count)]


def _assert_states_equal(ours, theirs, what):
    theirs = theirs.state_dict()
    for key, value in ours.state_dict().items():
        # two Adam steps of fp32 arithmetic in a different order of the same operations: 1e-5
        torch.testing.assert_close(value, theirs[key], rtol=1e-5, atol=1e-6, msg=lambda m: f"{what} {key}: {m}")


@pytest.mark.parametrize("norm", ["sn", "bn"])
def test_two_updates_equal_the_original_rules(training_config, norm):
    config = apply_overrides(training_config, [f"dis.norm={norm}"])
    torch.manual_seed(0)
    trainer = MUNITTrainer(config, dis_fakes="recompute")  # the original's update scheme
    original = OriginalRuleTrainer(trainer)
    for step, (x_a, x_b) in enumerate(_batches(2)):
        torch.manual_seed(100 + step)
        ours = trainer.iterate(x_a, x_b)
        torch.manual_seed(100 + step)
        expected = original.dis_update(x_a, x_b)
        expected.update(original.gen_update(x_a, x_b))
        for name, value in expected.items():
            # fp32 losses: 1e-5 relative
            assert ours[name].item() == pytest.approx(value.item(), rel=1e-5), f"step {step} {name}"
    for ours, theirs, what in ((trainer.dis_a, original.dis_a, "dis_a"), (trainer.dis_b, original.dis_b, "dis_b"),
                               (trainer.gen_a, original.gen_a, "gen_a"), (trainer.gen_b, original.gen_b, "gen_b")):
        _assert_states_equal(ours, theirs, what)


def test_spectral_norm_runs_one_power_iteration_per_discriminator_call(training_config):
    trainer = MUNITTrainer(apply_overrides(training_config, ["dis.norm=sn"]))
    conv = trainer.dis_a.cnns[0][1].conv.module
    u0 = conv.weight_u.detach().clone()
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    expected_u = u0
    w = conv.weight_bar.detach().view(conv.weight_bar.shape[0], -1)
    for _ in range(3):
        v = w.t().mv(expected_u)
        v = v / (v.norm() + 1e-12)
        expected_u = w.mv(v)
        expected_u = expected_u / (expected_u.norm() + 1e-12)
    for _ in range(3):
        trainer.dis_a(x)
    torch.testing.assert_close(conv.weight_u.detach(), expected_u, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dis_fakes", ["reuse", "recompute"])
@pytest.mark.parametrize("norm", ["none", "sn", "bn", "in"])
def test_compute_losses_equals_the_next_update_and_changes_nothing(training_config, norm, dis_fakes):
    # lr 0: the D step changes no weight, so the G step's adversarial terms see the same D
    config = apply_overrides(training_config, [f"dis.norm={norm}", "lr=0", "weight_decay=0", "recon_x_cyc_w=10"])
    torch.manual_seed(0)
    trainer = MUNITTrainer(config, dis_fakes=dis_fakes)
    x_a, x_b = _batches(1)[0]
    trainer.iterate(x_a, x_b)  # BatchNorm running statistics and SN vectors away from their start
    s_a, s_b = torch.randn(2, 8, 1, 1), torch.randn(2, 8, 1, 1)
    before = {k: v.clone() for k, v in trainer.networks.state_dict().items()}
    predicted = trainer.compute_losses(x_a, x_b, s_a, s_b)
    after = trainer.networks.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert not changed, f"compute_losses changed {changed[:3]}"
    trainer.random_styles = lambda batch: (s_a, s_b)  # both updates draw these styles
    actual = trainer.iterate(x_a, x_b)
    assert set(actual) == set(LOSS_NAMES)
    for name in LOSS_NAMES:
        # the same fp32 operations in the same order: 1e-6 relative
        assert predicted[name].item() == pytest.approx(actual[name].item(), rel=1e-6, abs=1e-7), name
