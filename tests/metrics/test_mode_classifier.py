"""The shipped shapes mode classifier, its file format, and the two extreme translators' CIS."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from munit_fast.checkpoint import atomic_save
from munit_fast.data.synthetic import NUM_MODES, random_shape, render_filled, synthetic_domain
from munit_fast.errors import MunitError
from munit_fast.metrics import inception_scores
from munit_fast.metrics.classifier import (
    SHIPPED_SHAPES_CLASSIFIER,
    ModeClassifier,
    evaluate_accuracy,
    load_classifier,
    save_classifier,
    to_batch,
)

HELD_OUT = "synthetic:shapes?seed=2026&test_count=400"  # the shipped classifier was trained on seed 0


@pytest.fixture(scope="module")
def shipped():
    return load_classifier(None)[0]


def test_shipped_classifier_is_small_and_named():
    model, names = load_classifier(SHIPPED_SHAPES_CLASSIFIER)
    assert names == ["ember", "ocean", "forest", "dusk"]
    assert sum(p.numel() for p in model.parameters()) < 200_000  # under 1 MB on disk


def test_shipped_classifier_reaches_98_percent_on_a_held_out_seed(shipped):
    images = synthetic_domain(HELD_OUT, "b", train=False)
    accuracy = evaluate_accuracy(shipped, to_batch(images[:]), torch.from_numpy(images.labels))
    assert accuracy >= 0.98, accuracy


def _inputs(count, seed):
    rng = np.random.default_rng(seed)
    return [random_shape(rng) for _ in range(count)]


def test_style_ignoring_generator_has_cis_near_zero(shipped):
    # One output per input (its mode fixed by the input), whatever the style: deterministic.
    shapes = _inputs(12, seed=5)
    samples = 16
    outputs = [render_filled(shape, i % NUM_MODES, 64) for i, shape in enumerate(shapes) for _ in range(samples)]
    probs = shipped.probabilities(to_batch(outputs)).numpy().reshape(len(shapes), samples, NUM_MODES)
    scores = inception_scores(probs)
    assert scores["cis_kl"] == pytest.approx(0.0, abs=1e-6)  # identical outputs -> identical probabilities
    assert scores["cis_exp"] == pytest.approx(1.0, abs=1e-6)
    assert scores["is_kl"] > 0.9 * math.log(NUM_MODES)  # modes differ across inputs: IS stays high


def test_equal_probability_mode_generator_has_cis_near_ln4(shipped):
    # Each translation draws one of the 4 modes with equal probability (the renderer as a perfect translator).
    shapes = _inputs(12, seed=6)
    samples = 40
    rng = np.random.default_rng(7)
    outputs = [render_filled(shape, int(rng.integers(NUM_MODES)), 64, rng) for shape in shapes for _ in range(samples)]
    probs = shipped.probabilities(to_batch(outputs)).numpy().reshape(len(shapes), samples, NUM_MODES)
    scores = inception_scores(probs)
    # With 40 draws the empirical mode distribution falls short of uniform by about
    # (M - 1) / (2 * 40) = 0.04 nats in expectation; allow 0.1 for that and classifier softness.
    assert abs(scores["cis_kl"] - math.log(NUM_MODES)) < 0.1, scores
    assert scores["cis_exp"] > 3.5


def test_save_load_round_trip_with_weights_only(tmp_path):
    model = ModeClassifier(3, width=4, image_size=32)
    save_classifier(model, str(tmp_path / "clf.pt"), ["x", "y", "z"])
    loaded, names = load_classifier(str(tmp_path / "clf.pt"))
    assert names == ["x", "y", "z"]
    images = torch.rand(2, 3, 48, 48) * 2 - 1  # any size: resized to 32 inside
    torch.testing.assert_close(loaded.probabilities(images), model.eval().probabilities(images), atol=0, rtol=0)


def test_other_files_are_refused_with_a_one_line_error(tmp_path):
    atomic_save({"a": {}, "b": {}}, tmp_path / "gen.pt")
    with pytest.raises(MunitError, match="not a munit-fast mode classifier"):
        load_classifier(str(tmp_path / "gen.pt"))
    with pytest.raises(MunitError, match="not found"):
        load_classifier(str(tmp_path / "missing.pt"))


def test_dataset_classifier_trains_on_a_folder_of_modes(tmp_path, capsys):
    import cv2

    from munit_fast.cli.main import main

    for name, colour in (("red", (0, 0, 255)), ("blue", (255, 0, 0))):
        (tmp_path / "modes" / name).mkdir(parents=True)
        for i in range(10):
            cv2.imwrite(str(tmp_path / "modes" / name / f"{i}.png"), np.full((20, 24, 3), colour, np.uint8))
    out = tmp_path / "clf.pt"
    assert main(["dataset", "classifier", "--data", str(tmp_path / "modes"), "--out", str(out), "--epochs", "1",
                 "--size", "16"]) == 0
    model, names = load_classifier(str(out))
    assert names == ["blue", "red"] and model.image_size == 16
    assert "held-out accuracy" in capsys.readouterr().out


def test_dataset_classifier_needs_one_folder_per_mode(tmp_path, capsys):
    from munit_fast.cli.main import main

    (tmp_path / "only").mkdir()
    assert main(["dataset", "classifier", "--data", str(tmp_path), "--out", str(tmp_path / "c.pt")]) == 2
    assert "need one per mode, at least 2" in capsys.readouterr().err
