"""`munit-fast eval --repeats`: independent draws of the styles, reported as mean and standard error."""
from __future__ import annotations

import json
import math

import pytest
import yaml

from munit_fast.checkpoint import build_generators, save_generators
from munit_fast.cli.main import main
from munit_fast.cli.options import SEED_MAX
from munit_fast.config import config_from_dict
from munit_fast.metrics.repeats import summarize_draws
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


def _draw(seed, cis, histogram, coverage):
    return {"seed": seed, "num_inputs": 2, "cis_kl": cis, "cis_exp": math.exp(cis), "is_kl": cis + 0.5,
            "is_exp": math.exp(cis + 0.5), "coverage_mean": sum(coverage) / 2, "coverage_per_input": coverage,
            "confidence": 0.9, "mode_histogram": histogram}


def test_one_draw_is_returned_as_it_is():
    draw = _draw(3, 1.1, [1, 2, 3, 4], [2, 4])
    assert summarize_draws([draw]) == draw


def test_draws_give_mean_standard_error_and_per_draw_values():
    draws = [_draw(0, 1.0, [1, 0, 0, 1], [1, 2]), _draw(1, 1.2, [0, 2, 0, 0], [2, 2]),
             _draw(2, 1.4, [0, 0, 2, 0], [3, 1])]
    summary = summarize_draws(draws)
    assert summary["repeats"] == 3 and summary["seeds"] == [0, 1, 2]
    assert summary["cis_kl"] == pytest.approx(1.2, abs=1e-12)
    # sample standard deviation of 1.0, 1.2, 1.4 is 0.2; its standard error over 3 draws 0.2 / sqrt(3)
    assert summary["cis_kl_se"] == pytest.approx(0.2 / math.sqrt(3), abs=1e-12)
    assert summary["cis_kl_per_draw"] == [1.0, 1.2, 1.4]
    assert summary["cis_exp"] == pytest.approx(math.exp(1.2), abs=1e-12)  # exp of the mean KL
    assert summary["is_kl"] == pytest.approx(1.7, abs=1e-12) and summary["is_exp"] == pytest.approx(math.exp(1.7))
    assert summary["confidence_se"] == pytest.approx(0.0, abs=1e-12)
    assert summary["mode_histogram"] == [1, 2, 2, 1]
    assert summary["coverage_per_input"] == pytest.approx([2.0, 5 / 3])
    assert summary["coverage_mean"] == pytest.approx((1.5 + 2 + 2) / 3)
    assert "lpips_diversity" not in summary  # only the scores that were measured


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
])
def test_bad_repeats_are_one_line(tiny_files, capsys, extra, match):
    config, checkpoint = tiny_files
    assert main(["eval", "--config", config, "--checkpoint", checkpoint, "--num-inputs", "1", *extra]) == 2
    err = capsys.readouterr().err
    assert match in err and err.strip().count("\n") == 0, err
