"""Inception Score (IS) and Conditional Inception Score (CIS), as in MUNIT section 5.

For inputs x_1 (index i) and translations x_12 (index j) with classifier probabilities
p(y | x_12) = probs[i, j]:

    p(y | x_1) = mean_j probs[i, j]                    (per-input mode distribution)
    p(y)       = mean_{i,j} probs[i, j]                (marginal over all translations)
    CIS (mean KL) = mean_i mean_j KL(probs[i, j] || p(y | x_1 = i))
    IS  (mean KL) = mean_i mean_j KL(probs[i, j] || p(y))

IS is usually quoted as exp(mean KL); both forms are returned, labelled. A translator with one
output per input has CIS 0 (exp: 1); with M equally likely, confidently classified modes per
input CIS approaches ln M.
"""
from __future__ import annotations

from typing import Dict

import numpy as np

from munit_fast.errors import MunitError


def _kl_rows(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """KL(p || q) along the last axis, with 0 log 0 = 0; float64."""
    ratio = np.where(p > 0, p / np.maximum(q, np.finfo(np.float64).tiny), 1.0)
    return np.sum(np.where(p > 0, p * np.log(ratio), 0.0), axis=-1)


def check_probabilities(probs: np.ndarray) -> np.ndarray:
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 3 or min(probs.shape) < 1:
        raise MunitError(f"class probabilities must be shaped (inputs, samples, classes), got {probs.shape}")
    if (probs < 0).any() or not np.allclose(probs.sum(-1), 1.0, atol=1e-4):
        raise MunitError("class probabilities must be non-negative and sum to 1 over the classes (apply softmax)")
    return probs


def inception_scores(probs) -> Dict[str, float]:
    """probs (inputs, samples, classes) -> {"cis_kl", "cis_exp", "is_kl", "is_exp"}."""
    probs = check_probabilities(probs)
    per_input = probs.mean(axis=1, keepdims=True)  # (inputs, 1, classes)
    marginal = probs.mean(axis=(0, 1), keepdims=True)  # (1, 1, classes)
    cis_kl = float(_kl_rows(probs, per_input).mean())
    is_kl = float(_kl_rows(probs, marginal).mean())
    return {"cis_kl": cis_kl, "cis_exp": float(np.exp(cis_kl)), "is_kl": is_kl, "is_exp": float(np.exp(is_kl))}
