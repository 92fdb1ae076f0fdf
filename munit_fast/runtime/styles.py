"""Style codes: random from a seed, from a .npy file, or encoded from an example image."""
from __future__ import annotations

import os

import numpy as np
import torch

from munit_fast.errors import MunitError


def random_styles(count: int, style_dim: int, seed: int = 0) -> torch.Tensor:
    """(count, style_dim) codes from N(0, I), the same for the same seed on every machine.

    Drawn one code at a time, so the first N codes of a seed do not depend on ``count``.
    """
    if count < 1:
        raise MunitError(f"number of styles must be >= 1, got {count}")
    generator = torch.Generator().manual_seed(int(seed))
    return torch.stack([torch.randn(style_dim, generator=generator) for _ in range(count)])


def load_style_codes(path: str, style_dim: int) -> torch.Tensor:
    """Codes from a .npy file shaped (K, style_dim), (K, style_dim, 1, 1) or (style_dim,)."""
    if not os.path.isfile(path):
        raise MunitError(f"style codes file not found: {path}")
    try:
        codes = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise MunitError(f"cannot read style codes {path}: {exc}; expected a .npy array of shape (K, {style_dim})") from None
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
    np.save(path, codes.detach().cpu().float().numpy())
