"""Data-parallel training: two CPU processes over gloo end with identical weights, and resume
bit-exactly with each process's own random states."""
from __future__ import annotations

import os
import socket

import torch
import torch.multiprocessing as mp

from munit_fast.config import apply_overrides, config_from_dict
from munit_fast.training import MUNITTrainer, RunOptions, train
from tests.training.conftest import TINY_TRAINING


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world_size: int, port: int, folder: str, iterations: int = 3, resume: bool = False) -> None:
    # what torchrun sets for each process
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    config = apply_overrides(config_from_dict(dict(TINY_TRAINING)), [f"max_iter={iterations}"])
    result = train(config, RunOptions(output_dir=os.path.join(folder, "run"), progress=False, resume=resume))
    states = {name: module.state_dict() for name, module in result.trainer.networks.named_children()}
    torch.save({"iterations": result.iterations, "states": states}, os.path.join(folder, f"rank{rank}.pt"))


def test_two_gloo_processes_hold_identical_weights(tmp_path):
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]
    assert ranks[0]["iterations"] == ranks[1]["iterations"] == 3
    for net, state in ranks[0]["states"].items():
        for key, value in state.items():
            # averaged gradients and identical Adam steps: bit-identical weights on both ranks
            assert torch.equal(value, ranks[1]["states"][net][key]), f"{net}.{key}"
    # only rank 0 wrote the run's files, and they hold rank 0's weights
    saved = torch.load(tmp_path / "run" / "checkpoints" / "gen_00000003.pt", weights_only=True)
    assert torch.equal(saved["a"]["mlp.model.0.fc.weight"], ranks[0]["states"]["gen_a"]["mlp.model.0.fc.weight"])
    torch.manual_seed(0)  # the seed both ranks start from: training moved the weights away from it
    initial = MUNITTrainer(config_from_dict(dict(TINY_TRAINING))).gen_a.state_dict()["mlp.model.0.fc.weight"]
    assert not torch.equal(initial, ranks[0]["states"]["gen_a"]["mlp.model.0.fc.weight"])


def test_two_gloo_processes_resume_bit_exactly(tmp_path):
    """Each rank draws its own style codes: a resumed run restores every rank's random states
    from the one optimizer.pt and ends where an uninterrupted run ends."""
    straight, split = tmp_path / "straight", tmp_path / "split"
    mp.spawn(_worker, args=(2, _free_port(), str(straight), 3), nprocs=2, join=True)
    mp.spawn(_worker, args=(2, _free_port(), str(split), 2), nprocs=2, join=True)
    saved = torch.load(split / "run" / "checkpoints" / "optimizer.pt", weights_only=True)
    first, second = saved["resume"]["rng"]
    assert not torch.equal(first["torch"], second["torch"])  # the ranks' states differ: both are kept
    mp.spawn(_worker, args=(2, _free_port(), str(split), 3, True), nprocs=2, join=True)
    for name in ("gen", "dis"):
        a = torch.load(straight / "run" / "checkpoints" / f"{name}_00000003.pt", weights_only=True)
        b = torch.load(split / "run" / "checkpoints" / f"{name}_00000003.pt", weights_only=True)
        for domain in "ab":
            for key, value in a[domain].items():
                assert torch.equal(value, b[domain][key]), f"{name}[{domain}].{key}"
