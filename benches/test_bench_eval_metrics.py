"""`munit-fast eval` costs: the mode classifier on a batch of translations, and one input's
translations + classification with the shapes demo model (random weights: same cost).

    pytest benches/test_bench_eval_metrics.py -m quick
    pytest benches/test_bench_eval_metrics.py --benchmark-disable    # one call each

extra_info: GFLOP per call, images/s when timed, hardware.
"""
from __future__ import annotations

import os

import pytest
import torch
import torch.nn as nn
from kernel_bench import hardware

from munit_fast.checkpoint import build_generators
from munit_fast.config import load_config
from munit_fast.metrics.classifier import load_classifier
from munit_fast.metrics.evaluate import evaluate_translations
from munit_fast.runtime.backends.eager import EagerBackend
from munit_fast.runtime.translator import Translator

CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs", "shapes_demo.yaml")


def _conv_gflop(model: nn.Module, images: torch.Tensor) -> float:
    """2 x multiply-adds of every Conv2d/Linear for one forward of ``images``."""
    macs = []

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            taps = module.kernel_size[0] * module.kernel_size[1]
            macs.append(output.numel() * module.in_channels // module.groups * taps)
        elif isinstance(module, nn.Linear):
            macs.append(output.numel() * module.in_features)

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(images)
    for handle in handles:
        handle.remove()
    return 2 * sum(macs) / 1e9


def _images_per_second(benchmark, count: int):
    stats = getattr(benchmark, "stats", None)
    return None if stats is None else count / stats.stats.median


@pytest.mark.quick
@pytest.mark.parametrize("batch", [100])
def test_mode_classifier(benchmark, batch):
    classifier = load_classifier(None)[0]
    images = torch.rand(batch, 3, 64, 64) * 2 - 1
    benchmark(classifier.probabilities, images)
    benchmark.extra_info.update(op="mode_classifier", batch=batch, gflop=_conv_gflop(classifier, images),
                                images_per_s=_images_per_second(benchmark, batch), hardware=hardware())


@pytest.mark.quick
@pytest.mark.parametrize("samples", [20])
def test_eval_one_input(benchmark, samples):
    config = load_config(CONFIG)
    gen_a, gen_b = build_generators(config)
    translator = Translator(EagerBackend(gen_a.eval(), gen_b.eval()))
    classifier = load_classifier(None)[0]
    image = torch.rand(1, 3, 64, 64) * 2 - 1
    result = benchmark(evaluate_translations, translator, [image], samples, classifier=classifier)
    assert result["num_samples"] == samples
    benchmark.extra_info.update(op="eval_one_input", samples=samples,
                                images_per_s=_images_per_second(benchmark, samples), hardware=hardware())
