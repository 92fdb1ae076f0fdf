"""Model formats people share: safetensors checkpoints, model folders, Hugging Face Hub repository
ids (resolved offline from a cache the test writes), and translate's progress bar switch."""
from __future__ import annotations

import os
import shutil
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import munit_fast
from munit_fast import from_pretrained  # the package-level name the README gives
from munit_fast.checkpoint import load_file
from munit_fast.cli.main import main
from munit_fast.errors import MunitError
from tests.conftest import REFERENCE, SAMPLE_IMAGES
from tests.training.conftest import TINY_OVERRIDES

CONFIG = os.path.join(REFERENCE, "config.yaml")
GEN, DIS = os.path.join(REFERENCE, "gen_00000001.pt"), os.path.join(REFERENCE, "dis_00000001.pt")
EDGE = os.path.join(SAMPLE_IMAGES, "edges2shoes_edge.jpg")


def _same_checkpoint(a, b):
    assert list(a) == list(b) == ["a", "b"]
    for domain in "ab":
        assert list(a[domain]) == list(b[domain])  # key order kept
        for key in a[domain]:
            assert a[domain][key].dtype == b[domain][key].dtype and torch.equal(a[domain][key], b[domain][key]), key


@pytest.mark.parametrize("original", [GEN, DIS], ids=["gen", "dis"])
def test_convert_round_trip_is_bit_identical(tmp_path, original):
    st, back = tmp_path / "model.safetensors", tmp_path / "back.pt"
    assert main(["convert", original, str(st)]) == 0
    assert main(["convert", str(st), str(back)]) == 0
    _same_checkpoint(load_file(original), load_file(str(st)))
    _same_checkpoint(load_file(original), load_file(str(back)))
    raw = open(st, "rb").read()
    assert b"a.enc_style.model.0.conv.weight" in raw or b"a.cnns.0.0.conv.weight" in raw  # original names, a./b.


def test_conversions_are_byte_reproducible(tmp_path):
    """The same checkpoint converts to the same bytes every time (hashes, caches and Hub uploads
    rely on it): six conversions, where a header written in a random order would differ."""
    written = []
    for k in range(6):
        assert main(["convert", GEN, str(tmp_path / f"gen{k}.safetensors")]) == 0
        written.append((tmp_path / f"gen{k}.safetensors").read_bytes())
    assert all(data == written[0] for data in written)
    assert main(["convert", str(tmp_path / "gen0.safetensors"), str(tmp_path / "back0.pt")]) == 0
    assert main(["convert", str(tmp_path / "gen5.safetensors"), str(tmp_path / "back5.pt")]) == 0
    assert (tmp_path / "back0.pt").read_bytes() == (tmp_path / "back5.pt").read_bytes()


def test_safetensors_checkpoint_translates_like_the_pt(tmp_path):
    assert main(["convert", GEN, str(tmp_path / "gen.safetensors")]) == 0
    for name, weights in (("pt", GEN), ("st", str(tmp_path / "gen.safetensors"))):
        assert main(["translate", "--config", CONFIG, "--checkpoint", weights, "--input", EDGE,
                     "--output", str(tmp_path / name), "--num-styles", "2", "--output-only"]) == 0
    for k in range(2):
        name = f"edges2shoes_edge_style{k:03d}.png"
        assert np.array_equal(np.asarray(Image.open(tmp_path / "pt" / name)),
                              np.asarray(Image.open(tmp_path / "st" / name)))


def test_bad_safetensors_and_conversions_are_one_line(tmp_path, capsys):
    (tmp_path / "cut.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a.x\":")
    with pytest.raises(MunitError, match="not a readable safetensors file"):
        load_file(str(tmp_path / "cut.safetensors"))
    from safetensors.torch import save_file

    save_file({"weight": torch.zeros(2)}, str(tmp_path / "plain.safetensors"))
    with pytest.raises(MunitError, match="has no a. or b. prefix"):
        load_file(str(tmp_path / "plain.safetensors"))
    torch.save({"gen": {}, "dis": {}}, tmp_path / "optimizer.pt")
    assert main(["convert", str(tmp_path / "optimizer.pt"), str(tmp_path / "o.safetensors")]) == 2
    assert "optimizer.pt stays in the .pt format" in capsys.readouterr().err
    assert main(["convert", GEN, str(tmp_path / "x.ckpt")]) == 2
    assert "expected a .pt or .safetensors file name" in capsys.readouterr().err


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A 2-iteration run of the tiny model, snapshots at 1 and 2: it writes run/model."""
    out = tmp_path_factory.mktemp("run")
    config = os.path.join(os.path.dirname(__file__), "..", "configs", "demo_edges2handbags_folder.yaml")
    sets = [a for item in TINY_OVERRIDES + ["snapshot_save_iter=1"] for a in ("--set", item)]
    torch.set_num_threads(1)
    assert main(["train", "--config", config, "--output-dir", str(out), "--max-iter", "2", "--no-progress",
                 *sets]) == 0
    return out


def test_training_writes_a_model_folder_every_command_reads(trained_run, tmp_path):
    model = trained_run / "model"
    assert sorted(os.listdir(model)) == ["README.md", "config.yaml", "gen.safetensors"]
    card = (model / "README.md").read_text()
    assert "2 iterations" in card and "munit-fast train --config" in card and munit_fast.__version__ in card
    assert "licence" in card
    gen_a, gen_b, config = from_pretrained(str(model))
    saved = load_file(str(trained_run / "checkpoints" / "gen_00000002.pt"))
    for key, value in gen_b.state_dict().items():
        assert torch.equal(value, saved["b"][key])
    assert config.gen.dim == 8
    assert main(["translate", "--model", str(model), "--input", EDGE, "--output", str(tmp_path / "out"),
                 "--output-only"]) == 0
    assert os.path.isfile(tmp_path / "out" / "edges2shoes_edge_style000.png")


def test_export_model_takes_a_chosen_iteration_and_metrics(trained_run, tmp_path):
    (tmp_path / "eval.json").write_text('{"cis_kl": 0.5, "is_kl": 0.25, "num_modes": 4}')
    assert main(["export-model", "--run", str(trained_run), "--iteration", "1", "--output", str(tmp_path / "m1"),
                 "--eval", str(tmp_path / "eval.json"), "--license", "CC0"]) == 0
    card = (tmp_path / "m1" / "README.md").read_text()
    assert "1 iterations" in card and "| cis_kl | 0.5 |" in card and "| licence | CC0 |" in card
    gen_a, _, _ = from_pretrained(str(tmp_path / "m1"))
    saved = load_file(str(trained_run / "checkpoints" / "gen_00000001.pt"))
    assert all(torch.equal(v, saved["a"][k]) for k, v in gen_a.state_dict().items())


def test_export_model_replaces_only_model_folders(trained_run, tmp_path, capsys):
    """--output is replaced as a whole, so a folder holding anything but a model's files (a source
    tree, the run itself, a home folder) is refused before any work and left as it was."""
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "notes.txt").write_text("keep me")
    for output, shown in ((project, "notes.txt, src"), (trained_run, None), (project / "notes.txt", None)):
        assert main(["export-model", "--run", str(trained_run), "--output", str(output)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "pass a new folder name" in err, err
        assert shown is None or f"it holds {shown})" in err
    assert (project / "notes.txt").read_text() == "keep me" and (project / "src").is_dir()
    assert os.path.isfile(trained_run / "checkpoints" / "gen_00000002.pt")
    (tmp_path / "link").symlink_to(project, target_is_directory=True)
    assert main(["export-model", "--run", str(trained_run), "--output", str(tmp_path / "link")]) == 2
    assert "is a symbolic link" in capsys.readouterr().err
    # a model folder (here one from an earlier export, with its eval.json) and an empty folder are replaced
    (tmp_path / "eval.json").write_text('{"cis_kl": 0.5}')
    model = tmp_path / "model"
    assert main(["export-model", "--run", str(trained_run), "--output", str(model), "--eval",
                 str(tmp_path / "eval.json")]) == 0
    assert main(["export-model", "--run", str(trained_run), "--iteration", "1", "--output", str(model)]) == 0
    assert "1 iterations" in (model / "README.md").read_text() and not (model / "eval.json").exists()
    assert sorted(os.listdir(tmp_path)) == ["eval.json", "link", "model", "project"]  # no staging left
    (tmp_path / "empty").mkdir()
    assert main(["export-model", "--run", str(trained_run), "--output", str(tmp_path / "empty")]) == 0


def test_from_pretrained_checks_the_device(trained_run):
    gen_a, _, _ = from_pretrained(str(trained_run / "model"), device="auto")
    assert next(gen_a.parameters()).device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(MunitError, match="expected cpu, cuda, cuda:N or auto"):
        from_pretrained(str(trained_run / "model"), device="gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(MunitError, match="CUDA is not available on this machine"):
            from_pretrained(str(trained_run / "model"), device="cuda")


def test_export_model_refuses_bad_iterations_and_eval_files(trained_run, tmp_path, capsys):
    (tmp_path / "list.json").write_text("[1, 2]")
    for extra, message in ((["--iteration", "0"], "--iteration must be >= 1"),
                           (["--iteration", "-3"], "--iteration must be >= 1"),
                           (["--iteration", "7"], "gen_00000007.pt does not exist"),
                           (["--eval", str(tmp_path / "list.json")], "expected the JSON object munit-fast eval")):
        assert main(["export-model", "--run", str(trained_run), "--output", str(tmp_path / "m")] + extra) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_training_refuses_a_run_folder_whose_model_folder_is_not_one(tmp_path, capsys):
    """train writes <output>/model at its end: a `model` there that holds other things is refused
    at the start, not after hours of training."""
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "mine.txt").write_text("x")
    config = os.path.join(os.path.dirname(__file__), "..", "configs", "demo_edges2handbags_folder.yaml")
    sets = [a for item in TINY_OVERRIDES for a in ("--set", item)]
    assert main(["train", "--config", config, "--output-dir", str(tmp_path), "--max-iter", "1", "--no-progress",
                 *sets]) == 2
    assert "the run's model folder" in capsys.readouterr().err
    assert not (tmp_path / "checkpoints").exists() and (tmp_path / "model" / "mine.txt").exists()


def test_hub_repository_ids_resolve_offline_from_the_cache(trained_run, tmp_path, monkeypatch):
    pytest.importorskip("huggingface_hub", reason="the Hub resolution needs huggingface_hub (the [hub] extra)")
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--someone--munit-shapes"
    snapshot = repo / "snapshots" / commit
    shutil.copytree(trained_run / "model", snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for module in [m for m in sys.modules if m.startswith("huggingface_hub")]:
        monkeypatch.delitem(sys.modules, module)  # it reads the environment when imported
    gen_a, _, config = from_pretrained("someone/munit-shapes")
    assert config.gen.dim == 8
    with pytest.raises(MunitError, match="not in the local Hugging Face cache"):
        from_pretrained("someone/not-downloaded")


def test_model_argument_errors(tmp_path, capsys):
    assert main(["translate", "--model", str(tmp_path / "none"), "--input", EDGE, "--output", str(tmp_path)]) == 2
    assert "no such folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["translate", "--model", str(tmp_path / "empty"), "--input", EDGE, "--output", str(tmp_path)]) == 2
    assert "has no config.yaml" in capsys.readouterr().err
    assert main(["translate", "--model", str(tmp_path / "empty"), "--config", CONFIG, "--input", EDGE,
                 "--output", str(tmp_path)]) == 2
    assert "--model replaces --config and --checkpoint" in capsys.readouterr().err


@pytest.mark.parametrize("flag, shown", [([], True), (["--no-progress"], False)])
def test_folder_progress_bar_and_its_switch(tmp_path, capsys, monkeypatch, flag, shown):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert main(["translate", "--config", CONFIG, "--checkpoint", GEN, "--input", SAMPLE_IMAGES,
                 "--output", str(tmp_path), "--output-only", *flag]) == 0
    err = capsys.readouterr().err
    assert ("4/4" in err and "image" in err) == shown, err
