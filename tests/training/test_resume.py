"""Exact resume, NaN stops and snapshot files, through the in-process training API."""
from __future__ import annotations

import os
import shutil
import warnings

import pytest
import torch

from munit_fast.checkpoint import load_file, save_safetensors
from munit_fast.config import apply_overrides
from munit_fast.errors import MunitError
from munit_fast.training import MUNITTrainer, RunOptions, train


def _options(folder, **kw):
    return RunOptions(output_dir=str(folder), progress=False, **kw)


def assert_same_snapshot(run_a, run_b, iteration: int, names=("gen", "dis")) -> None:
    """Bit-equal weights in two runs' checkpoints of ``iteration`` (``run_*``: output folders)."""
    for name in names:
        a = load_file(run_a / "checkpoints" / f"{name}_{iteration:08d}.pt")
        b = load_file(run_b / "checkpoints" / f"{name}_{iteration:08d}.pt")
        for domain in "ab":
            assert a[domain].keys() == b[domain].keys()
            for key in a[domain]:
                assert torch.equal(a[domain][key], b[domain][key]), f"{name}[{domain}].{key}"


@pytest.mark.parametrize("dis_fakes", ["reuse", "recompute"])
def test_resume_is_bit_exact(training_config, tmp_path, dis_fakes):
    # batch 2 over 6 images: 3 iterations per epoch, so the stop is mid-epoch and the rest crosses into epoch 1
    config = apply_overrides(training_config, ["batch_size=2", "max_iter=4"])
    straight = train(config, _options(tmp_path / "straight", dis_fakes=dis_fakes))
    train(apply_overrides(config, ["max_iter=2"]), _options(tmp_path / "split", dis_fakes=dis_fakes))
    resumed = train(config, _options(tmp_path / "split", dis_fakes=dis_fakes, resume=True))
    assert straight.iterations == resumed.iterations == 4
    # exact equality: same ops on the same CPU in the same order, so no tolerance is needed
    assert_same_snapshot(tmp_path / "straight", tmp_path / "split", 4)
    opt_a = load_file(tmp_path / "straight" / "checkpoints" / "optimizer.pt")
    opt_b = load_file(tmp_path / "split" / "checkpoints" / "optimizer.pt")
    for which in ("gen", "dis"):
        for index, state in opt_a[which]["state"].items():
            assert torch.equal(state["exp_avg_sq"], opt_b[which]["state"][index]["exp_avg_sq"])
    assert opt_b["gen"]["param_groups"][0]["lr"] == opt_a["gen"]["param_groups"][0]["lr"]


def test_snapshot_files_are_in_the_original_format(training_config, tmp_path):
    train(apply_overrides(training_config, ["max_iter=1"]), _options(tmp_path))
    folder = tmp_path / "checkpoints"
    assert sorted(os.listdir(folder)) == ["dis_00000001.pt", "gen_00000001.pt", "optimizer.pt"]
    gen = load_file(folder / "gen_00000001.pt")
    trainer = MUNITTrainer(training_config)
    assert set(gen) == {"a", "b"} and gen["a"].keys() == trainer.gen_a.state_dict().keys()
    assert {"gen", "dis"} <= set(load_file(folder / "optimizer.pt"))


def test_nan_loss_stops_naming_term_and_iteration_and_keeps_last_checkpoint(training_config, tmp_path, monkeypatch):
    config = apply_overrides(training_config, ["max_iter=5", "snapshot_save_iter=1"])
    real_iterate = MUNITTrainer.iterate
    calls = []

    def iterate(self, x_a, x_b):
        losses = real_iterate(self, x_a, x_b)
        calls.append(1)
        if len(calls) == 3:
            losses["gen_recon_c_b"] = torch.tensor(float("nan"))
        return losses

    monkeypatch.setattr(MUNITTrainer, "iterate", iterate)
    with pytest.raises(MunitError, match=r"loss gen_recon_c_b is nan at iteration 3; .*gen_00000002.pt"):
        train(config, _options(tmp_path))
    folder = tmp_path / "checkpoints"
    assert not (folder / "gen_00000003.pt").exists()
    assert set(load_file(folder / "gen_00000002.pt")) == {"a", "b"}


def test_resume_without_checkpoints_is_a_clear_error(training_config, tmp_path):
    with pytest.raises(MunitError, match="nothing to resume in"):
        train(training_config, _options(tmp_path, resume=True))


def test_resume_from_an_original_run_folder(training_config, tmp_path):
    """Original runs have no iteration and no resume state in optimizer.pt: the newest
    gen_*.pt names the iteration, as in the original trainer."""
    config = apply_overrides(training_config, ["max_iter=2"])
    train(config, _options(tmp_path))
    folder = tmp_path / "checkpoints"
    opt = load_file(folder / "optimizer.pt")
    del opt["iterations"], opt["resume"]
    torch.save(opt, folder / "optimizer.pt")
    with pytest.warns(UserWarning, match="random states start fresh"):
        result = train(apply_overrides(config, ["max_iter=3"]), _options(tmp_path, resume=True))
    assert result.iterations == 3 and (folder / "gen_00000003.pt").is_file()


def test_generator_averages_are_checkpointed_and_resume_exactly(training_config, tmp_path):
    """gen_ema > 0: gen_*.pt holds ema = d * ema + (1 - d) * weights after every G step (from the
    initial weights), gen_train_*.pt the trained weights, equal to a run without averages; a
    resumed run ends bit-identical."""
    decay = 0.9
    config = apply_overrides(training_config, ["batch_size=2", "max_iter=3", f"gen_ema={decay}"])
    trainer = MUNITTrainer(config)
    expected = {k: v.clone() for k, v in trainer.gen_a.state_dict().items()}
    real_update = MUNITTrainer._update_averages

    def update(self):
        real_update(self)
        for key, value in self.gen_a.named_parameters():
            expected[key] = decay * expected[key] + (1 - decay) * value.detach()

    torch.manual_seed(0)
    x_a, x_b = torch.rand(2, 2, 3, 32, 32) * 2 - 1
    try:
        MUNITTrainer._update_averages = update
        for _ in range(3):
            trainer.iterate(x_a, x_b)
    finally:
        MUNITTrainer._update_averages = real_update
    averaged = trainer.checkpoint_states(3)[0]["a"]
    for key, param in trainer.gen_a.named_parameters():
        # float32 lerp vs the formula above: a few ulps
        torch.testing.assert_close(averaged[key], expected[key], rtol=1e-6, atol=1e-7)
        assert not torch.equal(averaged[key], param), key  # the averages trail the trained weights

    straight = train(apply_overrides(config, ["max_iter=4"]), _options(tmp_path / "straight"))
    train(apply_overrides(config, ["max_iter=2"]), _options(tmp_path / "split"))
    resumed = train(apply_overrides(config, ["max_iter=4"]), _options(tmp_path / "split", resume=True))
    assert straight.iterations == resumed.iterations == 4
    folder = tmp_path / "split" / "checkpoints"
    expected = ["dis_00000002.pt", "dis_00000004.pt", "gen_00000002.pt", "gen_00000004.pt"]
    assert sorted(os.listdir(folder))[:4] == expected
    assert_same_snapshot(tmp_path / "straight", tmp_path / "split", 4, ("gen", "gen_train"))
    # averaging leaves training alone: the trained weights equal a run without gen_ema
    train(apply_overrides(config, ["max_iter=4", "gen_ema=0"]), _options(tmp_path / "plain"))
    plain = load_file(tmp_path / "plain" / "checkpoints" / "gen_00000004.pt")
    trained = load_file(tmp_path / "straight" / "checkpoints" / "gen_train_00000004.pt")
    for domain in "ab":
        for key in plain[domain]:
            assert torch.equal(plain[domain][key], trained[domain][key]), f"gen_train[{domain}].{key}"


def _vgg_file(path):
    """A random 13-conv VGG-16 in the original vgg16.weight layout (the perceptual loss's weights)."""
    generator, state, previous = torch.Generator().manual_seed(4), {}, 3
    names = ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3",
             "conv4_1", "conv4_2", "conv4_3", "conv5_1", "conv5_2", "conv5_3"]
    for name in names:
        out = min(64 * 2 ** (int(name[4]) - 1), 512)
        state[f"{name}.weight"] = torch.randn(out, previous, 3, 3, generator=generator) * (2 / (9 * previous)) ** 0.5
        state[f"{name}.bias"] = torch.zeros(out)
        previous = out
    torch.save(state, path)
    return path


@pytest.mark.parametrize("extra", [["dis.norm=sn"], ["vgg_w=1"], ["dis.norm=bn", "vgg_w=1", "vgg_layer=relu4_3"]],
                         ids=["sn", "vgg", "bn-vgg-relu4_3"])
def test_cli_trains_and_resumes_bit_exactly(tmp_path, extra):
    from munit_fast.cli.main import main
    from tests.training.conftest import TINY_OVERRIDES

    vgg = _vgg_file(tmp_path / "vgg16.weight")
    config = os.path.join(os.path.dirname(__file__), "..", "..", "configs", "demo_edges2handbags_folder.yaml")
    sets = [a for item in TINY_OVERRIDES + [f"vgg_model_path={vgg}", "batch_size=2"] + extra for a in ("--set", item)]

    def run(folder, iterations, *more):
        code = main(["train", "--config", config, "--output-dir", str(tmp_path / folder), "--max-iter",
                     str(iterations), "--no-progress", *sets, *more])
        assert code == 0

    run("straight", 3)
    run("split", 2)
    run("split", 3, "--resume")
    assert_same_snapshot(tmp_path / "straight", tmp_path / "split", 3)
    if "dis.norm=sn" in extra:
        saved = load_file(tmp_path / "split" / "checkpoints" / "dis_00000003.pt")["a"]
        assert any(k.endswith("weight_u") for k in saved)


class _Killed(BaseException):
    """Stands for kill -9: nothing after it runs (not an Exception, so no handler catches it)."""


@pytest.mark.parametrize("last_written", ["gen", "gen_train", "dis", "optimizer"])
def test_a_crash_after_any_snapshot_file_resumes_bit_exactly(training_config, tmp_path, monkeypatch, last_written):
    """The process dies right after one file of snapshot 3 is on disk; --resume continues from
    the newest complete snapshot and ends bit-identical to an uninterrupted run, RNG included."""
    from munit_fast.training import snapshots

    config = apply_overrides(training_config, ["batch_size=2", "max_iter=4", "snapshot_save_iter=1", "gen_ema=0.9"])
    train(config, _options(tmp_path / "straight"))
    real_save = snapshots.atomic_save
    written = []

    def save_then_die(state, path):
        real_save(state, path)
        written.append(os.path.basename(path))
        if "gen_00000003.pt" in written and written[-1] in (f"{last_written}_00000003.pt", f"{last_written}.pt"):
            raise _Killed

    monkeypatch.setattr(snapshots, "atomic_save", save_then_die)
    with pytest.raises(_Killed):
        train(config, _options(tmp_path / "killed"))
    monkeypatch.setattr(snapshots, "atomic_save", real_save)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "random states start fresh"
        resumed = train(config, _options(tmp_path / "killed", resume=True))
    assert resumed.iterations == 4
    assert_same_snapshot(tmp_path / "straight", tmp_path / "killed", 4, ("gen", "gen_train", "dis"))


def test_a_run_begun_by_an_older_munit_fast_resumes_from_its_resume_state_file(training_config, tmp_path):
    """Older releases kept the resume state in resume_state.pt beside optimizer.pt: it is read
    (bit-exact continuation) and removed once the next snapshot carries its own."""
    config = apply_overrides(training_config, ["batch_size=2", "max_iter=4"])
    train(config, _options(tmp_path / "straight"))
    train(apply_overrides(config, ["max_iter=2"]), _options(tmp_path / "old"))
    folder = tmp_path / "old" / "checkpoints"
    opt = load_file(folder / "optimizer.pt")
    torch.save({"iterations": 2, **opt.pop("resume")}, folder / "resume_state.pt")
    torch.save(opt, folder / "optimizer.pt")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "random states start fresh"
        train(config, _options(tmp_path / "old", resume=True))
    assert not (folder / "resume_state.pt").exists()
    assert_same_snapshot(tmp_path / "straight", tmp_path / "old", 4)


def test_resuming_a_finished_run_rewrites_a_missing_or_stale_model_folder(training_config, tmp_path):
    """A crash while the final model folder was written leaves none (or an earlier stop's):
    --resume of the finished run writes the one of the last snapshot, and leaves a right one alone."""
    from munit_fast.model_folder import holds_generators

    config = apply_overrides(training_config, ["max_iter=2"])
    train(config, _options(tmp_path))
    model, folder = tmp_path / "model", tmp_path / "checkpoints"
    last = load_file(folder / "gen_00000002.pt")
    assert holds_generators(str(model), last)
    weights = model / "gen.safetensors"
    first_write = weights.stat().st_mtime_ns
    train(config, _options(tmp_path, resume=True))
    assert weights.stat().st_mtime_ns == first_write  # already right: untouched

    shutil.rmtree(model)
    train(config, _options(tmp_path, resume=True))
    assert holds_generators(str(model), last)

    earlier = {d: {k: v + 1 for k, v in last[d].items()} for d in "ab"}  # an earlier stop's weights
    save_safetensors(earlier, weights)
    assert not holds_generators(str(model), last)
    train(config, _options(tmp_path, resume=True))
    assert holds_generators(str(model), last)
