"""Checkpoints of a training run: the original files, with munit-fast's resume state inside optimizer.pt.

Per snapshot, in this order, each written atomically: ``gen_%08d.pt`` (the weights to
translate with: the moving averages when the config keeps them, ``gen_ema``), then
``gen_train_%08d.pt`` (the trained weights, only with ``gen_ema``), ``dis_%08d.pt``, and last
``optimizer.pt``: the original's {"gen", "dis"} optimizer states plus munit-fast's "iterations"
and "resume" (scheduler and gradient-scaler states, every process's RNG states), which original
tools ignore. optimizer.pt is the snapshot's one commit point: a crash at any moment leaves it
naming a snapshot whose files are all complete, and ``--resume`` continues from that snapshot
bit-identically. Runs of munit-fast before the resume state moved into optimizer.pt kept it in
``resume_state.pt``, which is still read.
"""
from __future__ import annotations

import glob
import os
import random
import re
import warnings
from typing import Optional

import numpy as np
import torch

from munit_fast.checkpoint import atomic_save, load_discriminators, load_file, load_generator_state
from munit_fast.errors import MunitError

from .trainer import MUNITTrainer

LEGACY_RESUME_STATE = "resume_state.pt"
_GEN = re.compile(r"gen_(\d{8})\.pt$")


def rng_states(device: torch.device) -> dict:
    """The process's random states as tensors and plain Python values (loadable with weights_only)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    numpy_state = {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                   "has_gauss": int(has_gauss), "gauss": float(gauss)}
    states = {"torch": torch.get_rng_state(), "numpy": numpy_state, "python": random.getstate()}
    if device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(device)
    return states


def restore_rng_states(states: dict, device: torch.device) -> None:
    """Set the states `rng_states` returned; their tensors may have been loaded onto ``device``."""
    torch.set_rng_state(states["torch"].cpu())
    n = states["numpy"]
    np.random.set_state((n["kind"], n["keys"].cpu().numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    if device.type == "cuda" and "cuda" in states:
        torch.cuda.set_rng_state(states["cuda"].cpu(), device)


def save_snapshot(trainer: MUNITTrainer, folder: str, iterations: int, rng_per_rank: list) -> None:
    """Write the snapshot after ``iterations`` completed iterations; ``rng_per_rank``: the
    `rng_states` of every process, by rank."""
    gen, dis, opt = trainer.checkpoint_states(iterations)
    atomic_save(gen, os.path.join(folder, f"gen_{iterations:08d}.pt"))
    trained = trainer.trained_generator_state()
    if trained is not None:
        atomic_save(trained, os.path.join(folder, f"gen_train_{iterations:08d}.pt"))
    atomic_save(dis, os.path.join(folder, f"dis_{iterations:08d}.pt"))
    opt["resume"] = {"schedules": trainer.schedule_states(), "rng": rng_per_rank}
    atomic_save(opt, os.path.join(folder, "optimizer.pt"))
    legacy = os.path.join(folder, LEGACY_RESUME_STATE)
    if os.path.exists(legacy):  # an earlier snapshot's, from a run begun by an older munit-fast
        os.remove(legacy)


def latest_generator_iteration(folder: str) -> Optional[int]:
    names = (os.path.basename(p) for p in glob.glob(os.path.join(folder, "gen_*.pt")))
    found = [int(m.group(1)) for m in map(_GEN.search, names) if m]
    return max(found) if found else None


def resume(trainer: MUNITTrainer, folder: str, rank: int = 0, world_size: int = 1) -> int:
    """Load the newest complete snapshot in ``folder`` into ``trainer`` and restore this rank's
    random states; returns its iteration."""
    opt_path = os.path.join(folder, "optimizer.pt")
    newest = latest_generator_iteration(folder)
    if newest is None or not os.path.isfile(opt_path):
        raise MunitError(f"nothing to resume in {folder}: no gen_*.pt and optimizer.pt; run without --resume")
    opt = load_file(opt_path, map_location=trainer.device)
    # original runs: optimizer.pt has no iteration; they resume from the newest generator, as the original does
    iterations = int(opt.get("iterations", newest))
    gen_path = os.path.join(folder, f"gen_{iterations:08d}.pt")
    trained_path = os.path.join(folder, f"gen_train_{iterations:08d}.pt")
    if trainer.gen_a_ema is not None:  # averages from gen_*.pt (a run without them starts them there)
        load_generator_state(trainer.gen_a_ema, trainer.gen_b_ema, gen_path)
    load_generator_state(trainer.gen_a, trainer.gen_b, trained_path if os.path.isfile(trained_path) else gen_path)
    load_discriminators(trainer.dis_a, trainer.dis_b, os.path.join(folder, f"dis_{iterations:08d}.pt"))
    try:
        trainer.gen_opt.load_state_dict(opt["gen"])
        trainer.dis_opt.load_state_dict(opt["dis"])
    except (KeyError, ValueError) as exc:
        raise MunitError(f"{opt_path} does not fit this config's networks ({exc}); "
                         "resume with the run's config") from None
    trainer.set_iteration(iterations)
    state = opt.get("resume") or _legacy_resume_state(folder, iterations)
    if state is None:
        warnings.warn(f"{opt_path} has no resume state for iteration {iterations} (a run of the original code): "
                      "random states start fresh, so the continuation is not bit-identical to an uninterrupted run",
                      stacklevel=2)
        return iterations
    trainer.load_schedule_states(state["schedules"])
    if len(state["rng"]) == world_size:
        restore_rng_states(state["rng"][rank], trainer.device)
    else:
        warnings.warn(f"the run was saved by {len(state['rng'])} processes and resumes with {world_size}: "
                      "random states start fresh", stacklevel=2)
    return iterations


def _legacy_resume_state(folder: str, iterations: int) -> Optional[dict]:
    """The resume state an older munit-fast wrote beside optimizer.pt, if it belongs to ``iterations``."""
    path = os.path.join(folder, LEGACY_RESUME_STATE)
    state = load_file(path, map_location="cpu") if os.path.isfile(path) else None
    return state if state is not None and state.get("iterations") == iterations else None
