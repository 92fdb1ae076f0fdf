"""MUNITTrainer: the networks, optimizers, schedules and the D and G updates of MUNIT.

Computes what the original trainer computes (NVlabs/MUNIT trainer.py: the losses, the update
order and the optimizers).
Two update schemes (``dis_fakes``):

- ``"recompute"`` (the original): the D update draws its own styles and decodes its own
  cross-domain fakes; the G update then draws new styles and decodes again.
- ``"reuse"`` (default): one generator forward per iteration; its fakes, detached, train D
  first, then the G loss is taken against the updated D. Same order (D step, then G step
  against the new D), same weights producing the fakes, same distribution of styles (one
  draw shared by both updates instead of two draws); two decodes and two content encodes
  fewer per iteration. benches/test_bench_train.py measures the difference.
"""
from __future__ import annotations

import contextlib
import copy
import warnings
from typing import Callable, Dict, Optional, Tuple

import torch
import torch.nn as nn

from munit_fast.config import MunitConfig
from munit_fast.errors import MunitError
from munit_fast.model.size import check_generators_fit
from munit_fast.model.trainer_init import build_like_original_trainer

from .precision import autocast, check_precision, make_scaler
from .vgg import load_vgg16, vgg_loss

DIS_FAKES = ("reuse", "recompute")
LOSS_NAMES = (
    "gen_recon_x_a", "gen_recon_x_b", "gen_recon_s_a", "gen_recon_s_b", "gen_recon_c_a", "gen_recon_c_b",
    "gen_cycrecon_x_a", "gen_cycrecon_x_b", "gen_adv_a", "gen_adv_b", "gen_vgg_a", "gen_vgg_b", "gen_total",
    "dis_a", "dis_b", "dis_total",
)
Losses = Dict[str, torch.Tensor]


def recon_criterion(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error, reduced in fp32."""
    return torch.mean(torch.abs(output.float() - target.float()))


class MUNITTrainer:
    def __init__(self, config: MunitConfig, device="cpu", precision: str = "fp32", dis_fakes: str = "reuse",
                 reduce_gradients: Optional[Callable[[nn.Module], None]] = None):
        if dis_fakes not in DIS_FAKES:
            raise MunitError(f"dis_fakes must be one of {'/'.join(DIS_FAKES)}, got {dis_fakes!r}")
        self.config = config
        self.device = torch.device(device)
        check_precision(precision, self.device)
        self.precision, self.dis_fakes = precision, dis_fakes
        self.reduce_gradients = reduce_gradients  # averages gradients over processes (data parallel)
        self.style_dim = config.gen.style_dim

        # weights, gradients and Adam's two moments of both generators (the discriminators are smaller)
        check_generators_fit(config, copies=8)
        # the networks and the sample grids' fixed styles, drawn in the original's order
        nets, self.display_s_a, self.display_s_b = build_like_original_trainer(config)
        self.gen_a, self.gen_b, self.dis_a, self.dis_b = nets.gen_a, nets.gen_b, nets.dis_a, nets.dis_b
        self.networks = nets.to(self.device).train()
        # the weights' moving averages (config.gen_ema > 0): what checkpoints and sample grids use
        self.gen_a_ema = self.gen_b_ema = None
        if config.gen_ema > 0:
            self.gen_a_ema = copy.deepcopy(self.gen_a).requires_grad_(False).eval()
            self.gen_b_ema = copy.deepcopy(self.gen_b).requires_grad_(False).eval()
        self.display_s_a, self.display_s_b = self.display_s_a.to(self.device), self.display_s_b.to(self.device)

        betas = (config.beta1, config.beta2)
        gen_params = [p for p in list(self.gen_a.parameters()) + list(self.gen_b.parameters()) if p.requires_grad]
        dis_params = [p for p in list(self.dis_a.parameters()) + list(self.dis_b.parameters()) if p.requires_grad]
        self.gen_opt = torch.optim.Adam(gen_params, lr=config.lr, betas=betas, weight_decay=config.weight_decay)
        self.dis_opt = torch.optim.Adam(dis_params, lr=config.lr, betas=betas, weight_decay=config.weight_decay)
        self.gen_scheduler = self._make_scheduler(self.gen_opt)
        self.dis_scheduler = self._make_scheduler(self.dis_opt)
        self.gen_scaler = make_scaler(precision, self.device)
        self.dis_scaler = make_scaler(precision, self.device)
        self.vgg = None
        if config.vgg_w > 0:
            self.vgg = load_vgg16(config.vgg_model_path, config.vgg_layer).to(self.device)

    # ----------------------------------------------------------------- schedules
    def _make_scheduler(self, optimizer):
        if self.config.lr_policy == "constant":
            return None
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=self.config.step_size, gamma=self.config.gamma)

    def update_learning_rate(self) -> None:
        """One scheduler step, at the start of every iteration (before any optimizer step, as
        the original; PyTorch's warning about that order is expected and silenced)."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step\\(\\)`")
            for scheduler in (self.dis_scheduler, self.gen_scheduler):
                if scheduler is not None:
                    scheduler.step()

    def set_iteration(self, iterations: int) -> None:
        """Schedules as the original's resume builds them for ``iterations`` completed iterations."""
        for opt, scheduler in ((self.gen_opt, self.gen_scheduler), (self.dis_opt, self.dis_scheduler)):
            if scheduler is not None:
                scheduler.last_epoch = iterations
                for group in opt.param_groups:
                    group["lr"] = self.config.lr * self.config.gamma ** (iterations // self.config.step_size)

    # ----------------------------------------------------------------- losses
    def random_styles(self, batch: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """s_a, s_b ~ N(0, I), each (batch, style_dim, 1, 1), drawn in the original's order."""
        s_a = torch.randn(batch, self.style_dim, 1, 1, device=self.device)
        s_b = torch.randn(batch, self.style_dim, 1, 1, device=self.device)
        return s_a, s_b

    def _generator_forward(self, x_a, x_b, s_a, s_b, with_cycle: bool) -> Tuple[Losses, torch.Tensor, torch.Tensor]:
        """Every generator loss term except the adversarial ones; returns (terms, x_ba, x_ab).
        x_a: (B, C_a, H, W), x_b: (B, C_b, H, W), s_a/s_b: (B, style_dim, 1, 1)."""
        c_a, s_a_prime = self.gen_a.encode(x_a)
        c_b, s_b_prime = self.gen_b.encode(x_b)
        x_a_recon = self.gen_a.decode(c_a, s_a_prime)
        x_b_recon = self.gen_b.decode(c_b, s_b_prime)
        x_ba = self.gen_a.decode(c_b, s_a)
        x_ab = self.gen_b.decode(c_a, s_b)
        c_b_recon, s_a_recon = self.gen_a.encode(x_ba)
        c_a_recon, s_b_recon = self.gen_b.encode(x_ab)
        zero = torch.zeros((), device=x_a.device)
        terms = {
            "gen_recon_x_a": recon_criterion(x_a_recon, x_a), "gen_recon_x_b": recon_criterion(x_b_recon, x_b),
            "gen_recon_s_a": recon_criterion(s_a_recon, s_a), "gen_recon_s_b": recon_criterion(s_b_recon, s_b),
            "gen_recon_c_a": recon_criterion(c_a_recon, c_a), "gen_recon_c_b": recon_criterion(c_b_recon, c_b),
            "gen_cycrecon_x_a": zero, "gen_cycrecon_x_b": zero, "gen_vgg_a": zero, "gen_vgg_b": zero,
        }
        if with_cycle:
            x_aba = self.gen_a.decode(c_a_recon, s_a_prime)
            x_bab = self.gen_b.decode(c_b_recon, s_b_prime)
            terms["gen_cycrecon_x_a"] = recon_criterion(x_aba, x_a)
            terms["gen_cycrecon_x_b"] = recon_criterion(x_bab, x_b)
        if self.vgg is not None:
            terms["gen_vgg_a"] = vgg_loss(self.vgg, x_ba, x_b)
            terms["gen_vgg_b"] = vgg_loss(self.vgg, x_ab, x_a)
        return terms, x_ba, x_ab

    def _gan_loss_context(self):
        """CUDA autocast refuses binary_cross_entropy (nsgan): those D passes run in fp32."""
        if self.config.dis.gan_type == "nsgan" and self.device.type == "cuda" and self.precision != "fp32":
            return torch.autocast(device_type="cuda", enabled=False)
        return contextlib.nullcontext()

    def _adversarial_terms(self, terms: Losses, x_ba, x_ab) -> Losses:
        """Add gen_adv_a/_b and gen_total; D's weights get no gradient from this."""
        for dis in (self.dis_a, self.dis_b):
            dis.requires_grad_(False)
        try:
            with self._gan_loss_context():
                terms["gen_adv_a"] = self.dis_a.calc_gen_loss(x_ba.float()).float()
                terms["gen_adv_b"] = self.dis_b.calc_gen_loss(x_ab.float()).float()
        finally:
            for dis in (self.dis_a, self.dis_b):
                dis.requires_grad_(True)
        c = self.config
        terms["gen_total"] = (
            c.gan_w * terms["gen_adv_a"] + c.gan_w * terms["gen_adv_b"]
            + c.recon_x_w * terms["gen_recon_x_a"] + c.recon_s_w * terms["gen_recon_s_a"]
            + c.recon_c_w * terms["gen_recon_c_a"] + c.recon_x_w * terms["gen_recon_x_b"]
            + c.recon_s_w * terms["gen_recon_s_b"] + c.recon_c_w * terms["gen_recon_c_b"]
            + c.recon_x_cyc_w * terms["gen_cycrecon_x_a"] + c.recon_x_cyc_w * terms["gen_cycrecon_x_b"]
            + c.vgg_w * terms["gen_vgg_a"] + c.vgg_w * terms["gen_vgg_b"]
        )
        return terms

    def _discriminator_terms(self, x_a, x_b, x_ba, x_ab) -> Losses:
        """dis_a, dis_b, dis_total on detached fakes."""
        with self._gan_loss_context():
            dis_a = self.dis_a.calc_dis_loss(x_ba.detach().float(), x_a).float()
            dis_b = self.dis_b.calc_dis_loss(x_ab.detach().float(), x_b).float()
        return {"dis_a": dis_a, "dis_b": dis_b, "dis_total": self.config.gan_w * dis_a + self.config.gan_w * dis_b}

    def compute_losses(self, x_a: torch.Tensor, x_b: torch.Tensor, s_a: torch.Tensor, s_b: torch.Tensor) -> Losses:
        """Every loss term the next iteration computes on these images when its updates use the
        styles s_a, s_b, without changing anything. x_a: (B, C_a, H, W), x_b: (B, C_b, H, W) in
        [-1, 1]; s_a, s_b: (B, style_dim, 1, 1). Returns detached scalars under the original names.

        The networks run as an update runs them (train mode: a BatchNorm discriminator uses batch
        statistics) and in its order: the generator terms, the D terms on the same x_ba/x_ab
        (each discriminator on the fakes, then the reals), then the adversarial G terms. Those
        are taken against D as it is now, with its spectral-norm vectors advanced by the D
        passes as the G step sees them: with a D step that changes nothing (lr 0) they equal the
        update's. gen_cycrecon_x_* are computed whatever recon_x_cyc_w is. Every parameter and
        buffer (spectral-norm u/v, BatchNorm running statistics) is restored afterwards."""
        live = dict(self.networks.named_parameters())
        live.update(self.networks.named_buffers())
        saved = {name: tensor.detach().clone() for name, tensor in live.items()}
        was_training = self.networks.training
        self.networks.train()
        try:
            with torch.no_grad(), autocast(self.precision, self.device):
                x_a, x_b, s_a, s_b = (t.to(self.device) for t in (x_a, x_b, s_a, s_b))
                terms, x_ba, x_ab = self._generator_forward(x_a, x_b, s_a, s_b, with_cycle=True)
                dis_terms = self._discriminator_terms(x_a, x_b, x_ba, x_ab)
                terms = self._adversarial_terms(terms, x_ba, x_ab)
                terms.update(dis_terms)
        finally:
            with torch.no_grad():
                for name, tensor in live.items():
                    tensor.copy_(saved[name])
            self.networks.train(was_training)
        return {name: terms[name].detach().float() for name in LOSS_NAMES}

    # ----------------------------------------------------------------- updates
    def _step(self, loss: torch.Tensor, optimizer, scaler, modules) -> None:
        if scaler is not None:
            scaler.scale(loss).backward()
        else:
            loss.backward()
        if self.reduce_gradients is not None:
            for module in modules:
                self.reduce_gradients(module)
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()

    def dis_update(self, x_a, x_b, fakes: Optional[Tuple[torch.Tensor, torch.Tensor]] = None) -> Losses:
        """One D step. Without ``fakes`` (the original): fresh styles and a fresh decode."""
        self.dis_opt.zero_grad(set_to_none=True)
        with autocast(self.precision, self.device):
            if fakes is None:
                s_a, s_b = self.random_styles(x_a.shape[0])
                with torch.no_grad():
                    c_a, c_b = self.gen_a.encode_content(x_a), self.gen_b.encode_content(x_b)
                    fakes = (self.gen_a.decode(c_b, s_a), self.gen_b.decode(c_a, s_b))
            terms = self._discriminator_terms(x_a, x_b, *fakes)
        self._step(terms["dis_total"], self.dis_opt, self.dis_scaler, (self.dis_a, self.dis_b))
        return {k: v.detach() for k, v in terms.items()}

    def gen_update(self, x_a, x_b, forward=None) -> Losses:
        """One G step against the current D. ``forward``: a `_generator_forward` result to reuse."""
        self.gen_opt.zero_grad(set_to_none=True)
        with autocast(self.precision, self.device):
            if forward is None:
                s_a, s_b = self.random_styles(x_a.shape[0])
                forward = self._generator_forward(x_a, x_b, s_a, s_b, self.config.recon_x_cyc_w > 0)
            terms = self._adversarial_terms(*forward)
        self._step(terms["gen_total"], self.gen_opt, self.gen_scaler, (self.gen_a, self.gen_b))
        self._update_averages()
        return {k: v.detach() for k, v in terms.items()}

    @torch.no_grad()
    def _update_averages(self) -> None:
        """ema = decay * ema + (1 - decay) * weights, after every G step; buffers copied."""
        if self.gen_a_ema is None:
            return
        for average, net in ((self.gen_a_ema, self.gen_a), (self.gen_b_ema, self.gen_b)):
            for avg, param in zip(average.parameters(), net.parameters()):
                avg.lerp_(param.detach(), 1.0 - self.config.gen_ema)
            for avg, buffer in zip(average.buffers(), net.buffers()):
                avg.copy_(buffer)

    def inference_generators(self) -> Tuple[nn.Module, nn.Module]:
        """(gen_a, gen_b) to translate with: the moving averages when kept, else the trained weights."""
        if self.gen_a_ema is not None:
            return self.gen_a_ema, self.gen_b_ema
        return self.gen_a, self.gen_b

    def iterate(self, x_a: torch.Tensor, x_b: torch.Tensor) -> Losses:
        """One training iteration: scheduler step, D update, G update. Returns every loss term."""
        self.update_learning_rate()
        x_a, x_b = x_a.to(self.device, non_blocking=True), x_b.to(self.device, non_blocking=True)
        if self.dis_fakes == "recompute":
            losses = self.dis_update(x_a, x_b)
            losses.update(self.gen_update(x_a, x_b))
            return losses
        with autocast(self.precision, self.device):
            s_a, s_b = self.random_styles(x_a.shape[0])
            forward = self._generator_forward(x_a, x_b, s_a, s_b, self.config.recon_x_cyc_w > 0)
        losses = self.dis_update(x_a, x_b, fakes=forward[1:])
        losses.update(self.gen_update(x_a, x_b, forward=forward))
        return losses

    # ----------------------------------------------------------------- samples
    @torch.no_grad()
    def sample(self, x_a: torch.Tensor, x_b: torch.Tensor):
        """Sample grids as the original: per image its reconstruction and two translations, one
        with the fixed display style and one with a random style. x_a, x_b: (N, C, H, W).
        Returns (x_a, x_a_recon, x_ab1, x_ab2, x_b, x_b_recon, x_ba1, x_ba2), each (N, C, H, W)."""
        was_training = self.networks.training
        self.networks.train()
        gen_a, gen_b = self.inference_generators()
        n = x_a.shape[0]
        x_a, x_b = x_a.to(self.device), x_b.to(self.device)
        s_a2, s_b2 = self.random_styles(n)
        outs = ([], [], [], [], [], [])
        for i in range(n):
            c_a, s_a_fake = gen_a.encode(x_a[i:i + 1])
            c_b, s_b_fake = gen_b.encode(x_b[i:i + 1])
            outs[0].append(gen_a.decode(c_a, s_a_fake))
            outs[1].append(gen_b.decode(c_b, s_b_fake))
            outs[2].append(gen_a.decode(c_b, self.display_s_a[i:i + 1]))
            outs[3].append(gen_a.decode(c_b, s_a2[i:i + 1]))
            outs[4].append(gen_b.decode(c_a, self.display_s_b[i:i + 1]))
            outs[5].append(gen_b.decode(c_a, s_b2[i:i + 1]))
        self.networks.train(was_training)
        a_recon, b_recon, ba1, ba2, ab1, ab2 = (torch.cat(o) for o in outs)
        return x_a, a_recon, ab1, ab2, x_b, b_recon, ba1, ba2

    # ----------------------------------------------------------------- state
    def checkpoint_states(self, iterations: int):
        """(gen, dis, optimizer) dictionaries in the original format; gen holds the weights to
        translate with (the moving averages when kept)."""
        gen_a, gen_b = self.inference_generators()
        gen = {"a": gen_a.state_dict(), "b": gen_b.state_dict()}
        dis = {"a": self.dis_a.state_dict(), "b": self.dis_b.state_dict()}
        # "iterations" is a munit-fast addition; original tools read only 'gen' and 'dis'
        opt = {"gen": self.gen_opt.state_dict(), "dis": self.dis_opt.state_dict(), "iterations": iterations}
        return gen, dis, opt

    def trained_generator_state(self) -> Optional[dict]:
        """{"a", "b"} trained weights when checkpoints hold moving averages (gen_train_*.pt), else None."""
        if self.gen_a_ema is None:
            return None
        return {"a": self.gen_a.state_dict(), "b": self.gen_b.state_dict()}

    def schedule_states(self) -> dict:
        out = {}
        for name in ("gen_scheduler", "dis_scheduler", "gen_scaler", "dis_scaler"):
            obj = getattr(self, name)
            out[name] = obj.state_dict() if obj is not None else None
        return out

    def load_schedule_states(self, states: dict) -> None:
        for name, state in states.items():
            obj = getattr(self, name, None)
            if obj is not None and state is not None:
                obj.load_state_dict(state)
