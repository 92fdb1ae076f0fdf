"""Repeated evaluations of one model: the same inputs, independent draws of the random styles.

With a few styles per input, CIS moves from one draw of styles to the next by as much as many
differences between two models do. The mean over R draws, with its standard error, says which
differences are the model's and which are the draw's."""
from __future__ import annotations

import math
from typing import Dict, List, Sequence

import numpy as np

from munit_fast.errors import MunitError

# scalar scores averaged over the draws; each gets "<key>_se" and "<key>_per_draw"
AVERAGED = ("cis_kl", "is_kl", "coverage_mean", "confidence", "lpips_diversity")
EXPONENTIATED = {"cis_exp": "cis_kl", "is_exp": "is_kl"}  # exp of the averaged mean KL


def draw_seeds(seed: int, repeats: int, seed_max: int) -> List[int]:
    """The seeds of ``repeats`` draws starting at ``seed``: seed, seed + 1, ..."""
    if repeats < 1:
        raise MunitError(f"--repeats must be >= 1, got {repeats}")
    if repeats - 1 > seed_max:
        raise MunitError(f"--repeats {repeats} is more draws than there are seeds; use --repeats {seed_max + 1} "
                         "or fewer")
    if seed + repeats - 1 > seed_max:
        raise MunitError(f"--seed {seed} with --repeats {repeats} runs past the largest seed {seed_max}; "
                         f"use --seed {seed_max - repeats + 1} or lower")
    return [seed + k for k in range(repeats)]


def summarize_draws(draws: Sequence[Dict[str, object]]) -> Dict[str, object]:
    """Results of ``evaluate_translations`` for each draw -> one result. One draw is returned as
    it is. For several: the scores in AVERAGED are means over the draws, with their standard
    error (sample standard deviation / sqrt(draws)) and per-draw values; cis_exp and is_exp are
    exp of the mean KL; mode_histogram is summed and coverage_per_input averaged."""
    if not draws:
        raise MunitError("no evaluation draws to summarize")
    first = draws[0]
    if len(draws) == 1:
        return dict(first)
    summary = dict(first)
    summary["repeats"] = len(draws)
    summary["seeds"] = [draw["seed"] for draw in draws]
    for key in AVERAGED:
        if key not in first:
            continue
        values = np.array([draw[key] for draw in draws], np.float64)
        summary[key] = float(values.mean())
        summary[f"{key}_se"] = float(values.std(ddof=1) / math.sqrt(len(values)))
        summary[f"{key}_per_draw"] = values.tolist()
    for key, source in EXPONENTIATED.items():
        if key in first:
            summary[key] = float(math.exp(summary[source]))
    if "mode_histogram" in first:
        summary["mode_histogram"] = np.sum([draw["mode_histogram"] for draw in draws], axis=0).tolist()
    if "coverage_per_input" in first:
        summary["coverage_per_input"] = np.mean([draw["coverage_per_input"] for draw in draws], axis=0).tolist()
    return summary
