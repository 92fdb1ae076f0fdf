"""munit-fast train: one run per folder, partial files of killed runs, full disks, bad values,
and kill -9 at random points always resuming to bit-identical weights."""
from __future__ import annotations

import glob
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

from munit_fast.checkpoint import load_file
from tests.training.conftest import TINY_OVERRIDES

from .conftest import ROOT, assert_one_line_failure, no_partial_files, run_in_process, small_filesystem

CONFIG = os.path.join(ROOT, "configs", "demo_edges2handbags_folder.yaml")
SETS = [a for item in TINY_OVERRIDES for a in ("--set", item)]


def train_argv(out, *extra):
    return ["train", "--config", CONFIG, "--output-dir", str(out), "--no-progress", *SETS, *extra]


def _child(out, *extra):
    return subprocess.Popen([sys.executable, "-m", "munit_fast", *train_argv(out, *extra)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS="1"))


def _wait_for(path, proc, seconds=120):
    deadline = time.time() + seconds
    while not path():
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("extra, message", [
    (["--set", "lr=["], "--set 'lr=[': the value is not valid YAML"),
    (["--set", "lr=.nan"], "lr: expected a finite number"),
    (["--set", "gen.n_downsample=10"], "gen.n_downsample 10 needs sides that are multiples of 1024"),
    (["--set", "gen.dim=1000000"], "lower gen.dim, gen.n_downsample"),  # sizes fine, memory not
    (["--seed", str(2 ** 64)], "argument --seed"),
    (["--max-iter", "0"], "--max-iter must be >= 1"),
])
def test_bad_values_are_one_line(capsys, tmp_path, extra, message):
    assert_one_line_failure(run_in_process(capsys, *train_argv(tmp_path / "run", *extra)), contains=message)


def test_a_second_run_into_the_same_folder_is_refused(capsys, tmp_path):
    out = tmp_path / "run"
    first = _child(out, "--max-iter", "100000")
    try:
        _wait_for(lambda: (out / "checkpoints").is_dir(), first)
        result = run_in_process(capsys, *train_argv(out, "--max-iter", "2"))
        assert_one_line_failure(result, contains=f"is in use by another munit-fast run (pid {first.pid} on")
    finally:
        first.kill()
        first.communicate()
    # the lock died with its owner: the folder is usable again, and the killed run's partial files go
    (out / "checkpoints" / "gen_00000009.pt.abcd1234.tmp").write_bytes(b"half a checkpoint")
    code, _, err = run_in_process(capsys, *train_argv(out, "--max-iter", "1"))
    assert code == 0, err
    assert no_partial_files(out) == []


def test_full_disk_mid_checkpoint_keeps_the_last_snapshot(capsys, tmp_path):
    probe = tmp_path / "probe"
    assert run_in_process(capsys, *train_argv(probe, "--max-iter", "1"))[0] == 0
    snapshot = sum(os.path.getsize(p) for p in glob.glob(str(probe / "checkpoints" / "*")))
    others = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(probe) for f in fs) - snapshot
    # room for the samples, logs and one snapshot and a half: the second snapshot fills the disk
    with small_filesystem(tmp_path, f"{(others + snapshot * 3 // 2) // 1024 + 64}k") as folder:
        out = folder / "run"
        result = run_in_process(capsys, *train_argv(out, "--max-iter", "4", "--set", "snapshot_save_iter=1"))
        assert_one_line_failure(result, contains="disk full")
        assert no_partial_files(folder) == []
        saved = sorted(glob.glob(str(out / "checkpoints" / "gen_*.pt")))
        assert saved, "the first snapshot fits"
        assert set(load_file(saved[-1])) == {"a", "b"}


def _weights(folder, iteration):
    return {name: load_file(os.path.join(folder, "checkpoints", f"{name}_{iteration:08d}.pt"))
            for name in ("gen", "dis")}


def test_kill_9_at_random_points_resumes_bit_identically(tmp_path):
    """Three kill -9 at random moments (some mid-checkpoint: a snapshot every iteration), each
    followed by --resume; the end equals an uninterrupted run bit for bit."""
    iterations = 6
    extra = ["--max-iter", str(iterations), "--set", "snapshot_save_iter=1", "--set", "batch_size=2"]
    straight = _child(tmp_path / "straight", *extra)
    assert straight.wait(timeout=300) == 0, straight.communicate()
    out = tmp_path / "killed"
    chance = random.Random(7)
    for attempt in range(3):
        proc = _child(out, *extra, *(["--resume"] if attempt else []))
        time.sleep(chance.uniform(2.5, 6.0))  # startup takes ~2 s; iterations and saves follow
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    saved = glob.glob(str(out / "checkpoints" / "optimizer.pt"))
    resumed = _child(out, *extra, *(["--resume"] if saved else []))
    _, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    a, b = _weights(tmp_path / "straight", iterations), _weights(out, iterations)
    for name in ("gen", "dis"):
        for domain in "ab":
            for key, value in a[name][domain].items():
                assert torch.equal(value, b[name][domain][key]), f"{name}[{domain}].{key}"
