"""The paper's evaluation loop: translate each input with many random styles, classify the
translations (IS, CIS, mode coverage) and measure their LPIPS diversity."""
from __future__ import annotations

from typing import Callable, Dict, Optional, Sequence

import numpy as np
import torch

from munit_fast.errors import MunitError

from .coverage import mode_coverage
from .is_cis import inception_scores
from .lpips import lpips_diversity


def evaluate_translations(translator, inputs: Sequence[torch.Tensor], num_samples: int, seed: int = 0,
                          classifier=None, lpips=None, lpips_pairs: int = 19, fixed_style: bool = False,
                          batch_styles: int = 25, progress: Optional[Callable] = None) -> Dict[str, object]:
    """inputs: (1, C_in, H, W) tensors in [-1, 1]. Each input gets ``num_samples`` fresh N(0, I)
    styles (one style repeated when ``fixed_style``: the deterministic baseline).

    Returns a dict with the IS/CIS (mean KL and exp) and coverage fields when ``classifier`` is
    given, ``lpips_diversity`` when ``lpips`` is given, and the settings."""
    if num_samples < 1 or not inputs:
        raise MunitError("need at least 1 input and --num-samples >= 1")
    generator = torch.Generator().manual_seed(int(seed))
    probs, diversities = [], []
    iterator = progress(inputs) if progress is not None else inputs
    for image in iterator:
        if fixed_style:
            styles = torch.randn(1, translator.style_dim, generator=generator).expand(num_samples, -1)
        else:
            styles = torch.randn(num_samples, translator.style_dim, generator=generator)
        # batch by batch: memory holds one batch, and for LPIPS the first lpips_pairs + 1 translations
        per_batch, kept = [], []
        keep = lpips_pairs + 1 if lpips is not None else 0
        for start in range(0, num_samples, batch_styles):
            outputs = translator.translate(image, styles[start:start + batch_styles])[0].float()  # (k, C_out, H, W)
            if classifier is not None:
                per_batch.append(classifier.probabilities(outputs))
            if start < keep:
                kept.append(outputs[:keep - start])
        if classifier is not None:
            probs.append(torch.cat(per_batch).numpy())
        if lpips is not None:
            diversities.append(lpips_diversity(lpips, torch.cat(kept), lpips_pairs))
    result: Dict[str, object] = {"num_inputs": len(inputs), "num_samples": num_samples, "seed": seed,
                                 "fixed_style": fixed_style}
    if classifier is not None:
        stacked = np.stack(probs)  # (inputs, samples, classes)
        result.update(inception_scores(stacked))
        result["cis_kl_max"] = float(np.log(stacked.shape[-1]))
        result.update(mode_coverage(stacked))
    if lpips is not None:
        result["lpips_diversity"] = float(np.mean(diversities))
        result["lpips_pairs_per_input"] = min(lpips_pairs, num_samples - 1)
    return result
