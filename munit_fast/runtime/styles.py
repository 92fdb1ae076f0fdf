"""Style codes: random from a seed, from a .npy file, or encoded from an example image.

Two seed rules: munit-fast's (`random_styles`: its own generator, the same codes on every
machine whatever else ran) and the original scripts' (`original_style_codes`,
`original_batch_style_codes`: the global generator after constructing a trainer, so that
``--seed-compat original`` reproduces the codes of test.py and test_batch.py).
"""
from __future__ import annotations

import os
from typing import List

import numpy as np
import torch

from munit_fast.config import MunitConfig
from munit_fast.errors import MunitError
from munit_fast.files import atomic_open
from munit_fast.memory import check_fits
from munit_fast.model.trainer_init import consume_original_trainer_draws

TEST_PY_DEFAULTS = {"seed": 10, "num_styles": 10}  # test.py's --seed and --num_style defaults
TEST_BATCH_DEFAULTS = {"seed": 1, "num_styles": 10}  # test_batch.py's


def random_styles(count: int, style_dim: int, seed: int = 0) -> torch.Tensor:
    """(count, style_dim) codes from N(0, I), the same for the same seed on every machine.

    Drawn one code at a time, so the first N codes of a seed do not depend on ``count``.
    """
    if count < 1:
        raise MunitError(f"number of styles must be >= 1, got {count}")
    check_fits(count * style_dim * 4, f"{count} style codes of {style_dim} numbers", "lower the number of styles")
    generator = torch.Generator().manual_seed(int(seed))
    codes = torch.empty(count, style_dim)
    for index in range(count):  # indexing, not iterating: iteration makes every row's view at once
        torch.randn(style_dim, generator=generator, out=codes[index])
    return codes


def original_style_codes(config: MunitConfig, seed: int, count: int) -> torch.Tensor:
    """test.py's codes: manual_seed(seed), MUNIT_Trainer(config), randn(count, style_dim, 1, 1)
    -> (count, style_dim). Leaves torch's global generator as it was."""
    if count < 1:
        raise MunitError(f"number of styles must be >= 1, got {count}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        consume_original_trainer_draws(config)
        return torch.randn(count, config.gen.style_dim, 1, 1).reshape(count, -1)


def original_batch_style_codes(config: MunitConfig, seed: int, count: int, inputs: int,
                               synchronized: bool) -> List[torch.Tensor]:
    """test_batch.py's codes for ``inputs`` images, one (count, style_dim) tensor per image.

    It seeds, constructs a trainer, draws style_fixed = randn(count, style_dim, 1, 1); with
    --synchronized every image uses style_fixed. Otherwise the loop's DataLoader iterator first
    takes its base seed from the global generator (one int64 draw), then each image draws fresh
    codes. Leaves torch's global generator as it was."""
    if count < 1:
        raise MunitError(f"number of styles must be >= 1, got {count}")
    shape = (count, config.gen.style_dim, 1, 1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        consume_original_trainer_draws(config)
        fixed = torch.randn(*shape).reshape(count, -1)
        if synchronized:
            return [fixed] * inputs
        torch.empty((), dtype=torch.int64).random_()  # DataLoader's base seed
        return [torch.randn(*shape).reshape(count, -1) for _ in range(inputs)]


def load_style_codes(path: str, style_dim: int) -> torch.Tensor:
    """Codes from a .npy file shaped (K, style_dim), (K, style_dim, 1, 1) or (style_dim,)."""
    if not os.path.isfile(path):
        raise MunitError(f"style codes file not found: {path}")
    try:
        codes = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise MunitError(f"cannot read style codes {path}: {exc}; expected a .npy array of shape "
                         f"(K, {style_dim})") from None
    if codes.ndim == 1:
        codes = codes[None]
    if codes.ndim == 4 and codes.shape[2:] == (1, 1):
        codes = codes[:, :, 0, 0]
    if codes.ndim != 2 or codes.shape[1] != style_dim or codes.shape[0] < 1:
        raise MunitError(f"style codes {path} have shape {codes.shape}; expected (K, {style_dim}) for this model")
    if not np.issubdtype(codes.dtype, np.floating) or not np.isfinite(codes).all():
        raise MunitError(f"style codes {path} must be finite floating-point numbers")
    return torch.from_numpy(codes.astype(np.float32))


def save_style_codes(path: str, codes: torch.Tensor) -> None:
    """(K, style_dim) codes -> a .npy file, written atomically."""
    with atomic_open(path) as handle:
        np.save(handle, codes.detach().cpu().float().numpy())
