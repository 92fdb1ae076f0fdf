"""The train command end to end: a short run on edges2handbags images, SIGTERM, dry run, errors."""
from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import time
import warnings

import pytest

from munit_fast.checkpoint import load_generators
from munit_fast.cli.main import main
from munit_fast.config import apply_overrides, dump_config, load_config
from tests.training.conftest import TINY_OVERRIDES

CONFIG = os.path.join(os.path.dirname(__file__), "..", "..", "configs", "demo_edges2handbags_folder.yaml")


def _set(*items):
    return [arg for item in list(TINY_OVERRIDES) + list(items) for arg in ("--set", item)]


def _scalars(log_folder, tag):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(log_folder)
    events.Reload()
    return [e.value for e in events.Scalars(tag)]


def test_short_run_writes_everything_and_reconstruction_falls(tmp_path):
    out = tmp_path / "run"
    code = main(["train", "--config", CONFIG, "--output-dir", str(out), "--max-iter", "16", "--no-progress",
                 *_set("lr=0.001", "image_save_iter=8", "image_display_iter=4", "snapshot_save_iter=8")])
    assert code == 0
    assert {os.path.basename(p) for p in glob.glob(str(out / "checkpoints" / "*"))} == {
        "gen_00000008.pt", "dis_00000008.pt", "gen_00000016.pt", "dis_00000016.pt", "optimizer.pt"}
    for it in (8, 16):
        for name in ("a2b_test", "b2a_test", "a2b_train", "b2a_train"):
            assert (out / "images" / f"gen_{name}_{it:08d}.jpg").is_file()
    assert (out / "images" / "gen_a2b_train_current.jpg").is_file()
    html = (out / "index.html").read_text()
    assert "iteration [16]" in html and "images/gen_b2a_test_00000008.jpg" in html
    config = load_config(out / "config.yaml")  # the resolved config, loadable by translate
    gen_a, _ = load_generators(config, out / "checkpoints" / "gen_00000016.pt")
    assert gen_a.enc_content.output_dim == 32
    recon = [a + b for a, b in zip(_scalars(str(out / "logs"), "gen_recon_x_a"),
                                   _scalars(str(out / "logs"), "gen_recon_x_b"))]
    assert len(recon) == 16
    # the first four iterations against the last four: a falling trend, not one noisy pair
    assert sum(recon[-4:]) < 0.8 * sum(recon[:4]), recon


def test_sigterm_mid_training_leaves_a_loadable_checkpoint(tmp_path):
    out = tmp_path / "run"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "munit_fast", "train", "--config", CONFIG, "--output-dir", str(out),
           "--max-iter", "100000", "--no-progress", *_set("image_display_iter=1", "image_save_iter=100000")]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not (out / "images" / "gen_a2b_train_current.jpg").exists():  # written after iteration 1
            assert proc.poll() is None, proc.communicate()[1]
            assert time.time() < deadline, "training did not start within 120 s"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    # 128 + 15: schedulers can tell an interrupted run from a finished one
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "interrupted by SIGTERM: saved iteration" in err and "Traceback" not in err
    saved = sorted(glob.glob(str(out / "checkpoints" / "gen_*.pt")))
    assert len(saved) == 1
    config = load_config(out / "config.yaml")
    gen_a, gen_b = load_generators(config, saved[0])
    assert gen_b.style_dim == 8


def test_dry_run_prints_the_resolved_config(capsys):
    assert main(["train", "--config", CONFIG, "--dry-run", "--max-iter", "7", "--set", "gen.dim=16"]) == 0
    printed = capsys.readouterr().out
    expected = apply_overrides(load_config(CONFIG), ["max_iter=7", "gen.dim=16"])
    assert printed == dump_config(expected)


@pytest.mark.parametrize("args, message", [
    (["--set", "gen.nope=1"], "unknown config key gen.nope"),
    (["--precision", "fp16"], "fp16 needs a CUDA GPU"),
    (["--max-iter", "0"], "--max-iter must be >= 1"),
])
def test_bad_input_is_one_line_error(tmp_path, capsys, args, message):
    code = main(["train", "--config", CONFIG, "--output-dir", str(tmp_path), *_set(), *args])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="checks the message on machines without CUDA")
def test_cuda_without_gpu_is_one_line_error(tmp_path, capsys):
    assert main(["train", "--config", CONFIG, "--output-dir", str(tmp_path), "--device", "cuda", *_set()]) == 2
    assert "CUDA is not available" in capsys.readouterr().err


@pytest.mark.parametrize("device, expected", [("cuda", True), ("cpu", False)])
def test_cudnn_picks_the_fastest_convolutions_on_cuda_as_the_original(device, expected, monkeypatch):
    """The original's train.py sets cudnn.benchmark = True; on a CPU the setting is left alone."""
    import torch

    from munit_fast.training.loop import select_fastest_convolutions

    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)  # restored after the test
    select_fastest_convolutions(torch.device(device))
    assert torch.backends.cudnn.benchmark is expected


@pytest.mark.parametrize("overrides, warning", [
    (["data_root=/nonexistent"], "data folder not found: /nonexistent/trainA"),
    (["batch_size=100"], "trainA has 6 images, fewer than batch_size 100"),
    (["vgg_w=1", "vgg_model_path=/nonexistent/vgg16.pth"], "VGG-16 weights not found: /nonexistent/vgg16.pth"),
    (["vgg_w=1"], "vgg_w > 0 needs VGG-16 weights"),
])
def test_dry_run_warns_of_what_this_machine_lacks(capsys, overrides, warning):
    """The config is printed (it is valid), and what would stop the run here is said."""
    with pytest.warns(UserWarning) as said:
        assert main(["train", "--config", CONFIG, "--dry-run", *_set(*overrides)]) == 0
    expected = apply_overrides(load_config(CONFIG), list(TINY_OVERRIDES) + overrides)
    assert capsys.readouterr().out == dump_config(expected)
    messages = [str(w.message) for w in said]
    assert len(messages) == 1 and messages[0].startswith("a run would stop here: ") and warning in messages[0], messages


def test_dry_run_is_silent_when_a_run_could_start(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["train", "--config", CONFIG, "--dry-run", *_set()]) == 0
    assert capsys.readouterr().err == ""
