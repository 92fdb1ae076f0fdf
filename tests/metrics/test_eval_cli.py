"""`munit-fast dataset synth` and `munit-fast eval` (one draw of styles, or `--repeats`) with the tiny model."""
from __future__ import annotations

import csv
import json
import os

import cv2
import numpy as np
import pytest
import torch
import yaml

from munit_fast.checkpoint import build_generators, save_generators
from munit_fast.cli.main import main
from munit_fast.cli.options import SEED_MAX
from munit_fast.config import config_from_dict
from munit_fast.data.synthetic import mode_labels, synthetic_domain
from munit_fast.images import image_to_tensor
from munit_fast.metrics.classifier import load_classifier
from munit_fast.metrics.evaluate import evaluate_translations
from munit_fast.runtime.factory import build_translator
from tests.conftest import TINY_MODEL

SPEC = "synthetic:shapes?seed=1&size=64&count=8&test_count=4"


@pytest.fixture
def tiny_files(tmp_path):
    data = dict(TINY_MODEL, data_root=SPEC)
    config_path = tmp_path / "tiny.yaml"
    config_path.write_text(yaml.safe_dump(data))
    gen_a, gen_b = build_generators(config_from_dict(data))
    save_generators(gen_a, gen_b, tmp_path / "gen_00000001.pt")
    return str(config_path), str(tmp_path / "gen_00000001.pt")


def test_dataset_synth_writes_the_layout_and_labels(tmp_path, capsys):
    out = tmp_path / "shapes"
    assert main(["dataset", "synth", "--out", str(out), "--seed", "1", "--size", "32", "--count", "6",
                 "--test-count", "3"]) == 0
    for split, count in (("train", 6), ("test", 3)):
        for domain in "AB":
            assert sorted(os.listdir(out / f"{split}{domain}")) == [f"{i:06d}.png" for i in range(count)]
        with open(out / f"labels_{split}B.csv", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        spec = "synthetic:shapes?seed=1&size=32&count=6&test_count=3"
        assert [int(r["mode"]) for r in rows] == mode_labels(spec, split == "train").tolist()
    written = cv2.imread(str(out / "trainB" / "000002.png"))[:, :, ::-1] / 255.0
    rendered = synthetic_domain("synthetic:shapes?seed=1&size=32&count=6", "b", True)[2]
    assert np.abs(written - rendered).max() <= 0.5 / 255 + 1e-6  # 8-bit rounding only


def test_eval_prints_table_writes_json_and_sheet(tiny_files, tmp_path, capsys):
    config, checkpoint = tiny_files
    out_json, sheet = tmp_path / "eval.json", tmp_path / "sheet.png"
    assert main(["eval", "--config", config, "--checkpoint", checkpoint, "--num-inputs", "3", "--num-samples", "5",
                 "--json", str(out_json), "--sheet", str(sheet), "--sheet-rows", "2", "--sheet-styles", "3"]) == 0
    printed = capsys.readouterr().out
    assert "CIS, mean KL" in printed and "LPIPS diversity" in printed and "skipped" in printed
    result = json.loads(out_json.read_text())
    assert result["num_inputs"] == 3 and result["num_samples"] == 5 and result["num_modes"] == 4
    assert 0.0 <= result["cis_kl"] <= np.log(4) + 1e-9
    assert len(result["coverage_per_input"]) == 3
    image = cv2.imread(str(sheet))
    assert image.shape == (2 * 128 + 2, 4 * 128 + 3 * 2, 3)  # 2 rows x (input + 3 styles), 64 px enlarged x2


def test_fixed_style_is_the_deterministic_baseline(tiny_files):
    config, checkpoint = tiny_files
    translator = build_translator(config, checkpoint)
    tensors = [image_to_tensor(synthetic_domain(SPEC, "a", False)[i]) for i in range(2)]
    classifier = load_classifier(None)[0]
    fixed = evaluate_translations(translator, tensors, 4, classifier=classifier, fixed_style=True)
    assert fixed["cis_kl"] == pytest.approx(0.0, abs=1e-6)  # same style -> same output -> KL 0
    assert fixed["coverage_per_input"] == [1, 1]


@pytest.mark.parametrize("extra, match", [
    (["--num-samples", "0"], "--num-samples must be >= 1"),
    (["--lpips-alexnet", "a.pth"], "pass both --lpips-alexnet and --lpips-linear"),
    (["--lpips-alexnet", "a.pth", "--lpips-linear", "b.pth"], "alexnet-owt-7be5be79.pth"),
    (["--classifier", "nothing.pt"], "mode classifier not found: nothing.pt"),
    (["--sheet", "sheet.txt", "--json", "eval.json"], "cannot encode --sheet sheet.txt: unsupported image extension"),
])
def test_eval_bad_input_is_one_line(tiny_files, capsys, tmp_path, monkeypatch, extra, match):
    config, checkpoint = tiny_files
    monkeypatch.chdir(tmp_path)
    assert main(["eval", "--config", config, "--checkpoint", checkpoint, "--num-inputs", "1", *extra]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1
    assert not (tmp_path / "eval.json").exists()  # refused before the evaluation, not after it


def test_batches_of_styles_give_the_scores_of_one_batch(tiny_files):
    """The evaluation holds one batch of translations at a time: batching changes no score, and
    LPIPS still sees the first lpips_pairs + 1 translations in order."""
    config, checkpoint = tiny_files
    translator = build_translator(config, checkpoint)
    tensors = [image_to_tensor(synthetic_domain(SPEC, "a", False)[i]) for i in range(2)]
    classifier = load_classifier(None)[0]
    seen = []

    def lpips(left, right):  # records the pairs; an L1 distance stands in for the network
        seen.append((left.clone(), right.clone()))
        return (left - right).abs().mean(dim=(1, 2, 3))

    whole = evaluate_translations(translator, tensors, 7, 3, classifier, lpips, lpips_pairs=4, batch_styles=25)
    pairs_whole, seen[:] = list(seen), []
    batched = evaluate_translations(translator, tensors, 7, 3, classifier, lpips, lpips_pairs=4, batch_styles=2)
    assert batched["cis_kl"] == pytest.approx(whole["cis_kl"], abs=1e-6)
    assert batched["is_kl"] == pytest.approx(whole["is_kl"], abs=1e-6)
    assert batched["lpips_diversity"] == pytest.approx(whole["lpips_diversity"], abs=1e-6)
    assert len(seen) == len(pairs_whole) == len(tensors)  # one LPIPS call per input in each run
    for (left, right), (left_whole, right_whole) in zip(seen, pairs_whole):
        assert left.shape[0] == 4 and torch.allclose(left, left_whole, atol=1e-6)
        assert torch.allclose(right, right_whole, atol=1e-6)


def test_a_sheet_beyond_memory_is_refused_before_the_evaluation(tiny_files, tmp_path, capsys, monkeypatch):
    config, checkpoint = tiny_files
    monkeypatch.setenv("MUNIT_FAST_MEMORY_LIMIT", str(2 ** 30))
    argv = ["eval", "--config", config, "--checkpoint", checkpoint, "--num-inputs", "2", "--num-samples", "2",
            "--json", str(tmp_path / "eval.json"), "--sheet", str(tmp_path / "sheet.png"), "--sheet-styles",
            "100000"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--sheet of 2 rows x 100000 styles of 64x64 would take about" in err
    assert "lower --sheet-rows or --sheet-styles" in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "eval.json").exists()  # refused before minutes of evaluation


def test_repeats_are_the_runs_with_consecutive_seeds(tiny_files, tmp_path, capsys):
    config, checkpoint = tiny_files
    base = ["eval", "--config", config, "--checkpoint", checkpoint, "--num-inputs", "2", "--num-samples", "4"]
    singles = []
    for seed in (5, 6, 7):
        path = tmp_path / f"s{seed}.json"
        assert main([*base, "--seed", str(seed), "--json", str(path)]) == 0
        singles.append(json.loads(path.read_text()))
    capsys.readouterr()
    repeated_path = tmp_path / "repeated.json"
    assert main([*base, "--seed", "5", "--repeats", "3", "--json", str(repeated_path)]) == 0
    printed = capsys.readouterr().out
    repeated = json.loads(repeated_path.read_text())
    assert repeated["seeds"] == [5, 6, 7] and repeated["repeats"] == 3
    assert repeated["cis_kl_per_draw"] == [single["cis_kl"] for single in singles]
    assert repeated["cis_kl"] == pytest.approx(sum(s["cis_kl"] for s in singles) / 3, abs=1e-12)
    assert "3 draws (seeds 5..7)" in printed and "+/-" in printed
    assert "standard error of the mean over 3 draws" in printed


@pytest.mark.parametrize("extra, match", [
    (["--seed", str(SEED_MAX), "--repeats", "2"], f"use --seed {SEED_MAX - 1} or lower"),
    (["--repeats", "0"], "argument --repeats: expected an integer >= 1, got 0"),
    (["--repeats", str(SEED_MAX + 2)], f"is more draws than there are seeds; use --repeats {SEED_MAX + 1} or fewer"),
])
def test_bad_repeats_are_one_line(tiny_files, capsys, extra, match):
    config, checkpoint = tiny_files
    assert main(["eval", "--config", config, "--checkpoint", checkpoint, "--num-inputs", "1", *extra]) == 2
    err = capsys.readouterr().err
    assert match in err and err.strip().count("\n") == 0, err
