"""Mode coverage: how many of the target domain's modes appear among each input's translations."""
from __future__ import annotations

from typing import Dict

import numpy as np

from .is_cis import check_probabilities


def mode_coverage(probs) -> Dict[str, object]:
    """probs (inputs, samples, classes) -> {"coverage_mean": mean modes per input, "coverage_per_input":
    list of counts, "num_modes": classes, "confidence": mean top-class probability,
    "mode_histogram": how many translations fall in each mode}."""
    probs = check_probabilities(probs)
    predicted = probs.argmax(axis=-1)  # (inputs, samples)
    per_input = [int(np.unique(row).size) for row in predicted]
    histogram = np.bincount(predicted.ravel(), minlength=probs.shape[-1])
    return {
        "coverage_mean": float(np.mean(per_input)),
        "coverage_per_input": per_input,
        "num_modes": int(probs.shape[-1]),
        "confidence": float(probs.max(axis=-1).mean()),
        "mode_histogram": histogram.tolist(),
    }
