"""IS/CIS and mode coverage against hand-computed values and the two extreme translators."""
from __future__ import annotations

import math

import numpy as np
import pytest

from munit_fast.errors import MunitError
from munit_fast.metrics import inception_scores, mode_coverage

# Two inputs x two translations x two classes. Input 0 yields one confident translation per
# class; input 1 yields the same (0.8, 0.2) twice.
HAND = np.array([[[1.0, 0.0], [0.0, 1.0]],
                 [[0.8, 0.2], [0.8, 0.2]]])


def test_hand_computed_example():
    scores = inception_scores(HAND)
    # CIS: input 0 has p(y|x1) = (0.5, 0.5), each translation KL = ln 2; input 1 KL = 0.
    cis = (math.log(2) + math.log(2) + 0 + 0) / 4
    # IS: marginal p(y) = (0.65, 0.35).
    kl_confident_0 = math.log(1 / 0.65)
    kl_confident_1 = math.log(1 / 0.35)
    kl_soft = 0.8 * math.log(0.8 / 0.65) + 0.2 * math.log(0.2 / 0.35)
    is_kl = (kl_confident_0 + kl_confident_1 + 2 * kl_soft) / 4
    # float64 throughout: agreement to 1e-12 absolute.
    assert scores["cis_kl"] == pytest.approx(cis, abs=1e-12)
    assert scores["is_kl"] == pytest.approx(is_kl, abs=1e-12)
    assert scores["cis_exp"] == pytest.approx(math.exp(cis), abs=1e-12)
    assert scores["is_exp"] == pytest.approx(math.exp(is_kl), abs=1e-12)


def test_one_output_per_input_has_zero_cis():
    rng = np.random.default_rng(0)
    per_input = rng.dirichlet(np.ones(4), size=10)  # (10, 4): any distribution, repeated per sample
    probs = np.repeat(per_input[:, None, :], 25, axis=1)
    scores = inception_scores(probs)
    assert scores["cis_kl"] == pytest.approx(0.0, abs=1e-12)
    assert scores["cis_exp"] == pytest.approx(1.0, abs=1e-12)
    assert scores["is_kl"] > 0.1  # inputs still differ from each other


def test_equal_confident_modes_reach_ln_m():
    probs = np.tile(np.eye(4)[None], (3, 5, 1))  # every input: each of 4 modes 5 times, one-hot
    scores = inception_scores(probs)
    assert scores["cis_kl"] == pytest.approx(math.log(4), abs=1e-12)
    assert scores["is_kl"] == pytest.approx(math.log(4), abs=1e-12)


def test_coverage_counts_distinct_modes_per_input():
    eye = np.eye(4)
    probs = np.stack([eye[[0, 1, 2, 3, 0]], eye[[2, 2, 2, 2, 2]], eye[[1, 3, 1, 3, 1]]])
    result = mode_coverage(probs * 0.9 + 0.025)  # 0.925 on the top class
    assert result["coverage_per_input"] == [4, 1, 2]
    assert result["coverage_mean"] == pytest.approx(7 / 3)
    assert result["confidence"] == pytest.approx(0.925)
    assert result["mode_histogram"] == [2, 4, 6, 3]


@pytest.mark.parametrize("probs, match", [
    (np.ones((2, 2)), "shaped"),
    (np.full((1, 2, 2), 0.7), "sum to 1"),
    (np.array([[[1.5, -0.5]]]), "non-negative"),
])
def test_rejects_what_is_not_probabilities(probs, match):
    with pytest.raises(MunitError, match=match):
        inception_scores(probs)
