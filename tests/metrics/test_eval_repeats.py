"""Summaries of repeated evaluations (`munit-fast eval --repeats`): mean and standard error of each score."""
from __future__ import annotations

import math

import pytest

from munit_fast.metrics.repeats import summarize_draws


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
