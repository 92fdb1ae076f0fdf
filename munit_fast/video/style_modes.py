"""Which style codes each frame is decoded with.

Modes (``--style``):
- ``random``: one N(0, I) code from ``--seed`` for the whole run (space: a new one).
- ``walk``: a smooth random walk: slerp between random key codes, one key every ``--period``
  seconds with smoothstep easing, and no frame's code moves more than ``--max-step`` (L2)
  from the previous frame's, so the look drifts without flicker even when frames are dropped.
- ``image:PATH``: the style of an example image of the target domain.
- ``codes:FILE.npy``: the file's K codes, side by side.
- ``grid:K``: K random codes side by side, decoded in one batched pass.
- ``cycle`` / ``cycle:FILE.npy``: one code of a bank at a time (``--bank-size`` random codes, or
  the file's), switching every ``--period`` seconds.

Time ``t`` is in seconds of video (frame index / fps for files, wall clock for live sources).
"""
from __future__ import annotations

import math
import threading
from typing import Callable, Optional

import torch

from munit_fast.errors import MunitError
from munit_fast.runtime.styles import load_style_codes, random_styles

STYLE_MODES = ("random", "walk", "image:PATH", "codes:FILE.npy", "grid:K", "cycle", "cycle:FILE.npy")


def slerp(a: torch.Tensor, b: torch.Tensor, u: float) -> torch.Tensor:
    """Spherical interpolation between codes a, b (D,) at u in [0, 1]; linear when (anti)parallel."""
    cos = torch.dot(a / a.norm().clamp_min(1e-12), b / b.norm().clamp_min(1e-12)).clamp(-1.0, 1.0)
    omega = math.acos(float(cos))
    if math.sin(omega) < 1e-6:
        return (1.0 - u) * a + u * b
    return (math.sin((1.0 - u) * omega) * a + math.sin(u * omega) * b) / math.sin(omega)


def limit_step(previous: Optional[torch.Tensor], target: torch.Tensor, max_step: float) -> torch.Tensor:
    """Move from ``previous`` toward ``target`` by at most ``max_step`` (L2)."""
    if previous is None:
        return target
    delta = target - previous
    distance = float(delta.norm())
    return target if distance <= max_step else previous + delta * (max_step / distance)


class RandomStyle:
    def __init__(self, style_dim: int, seed: int):
        self.style_dim, self.seed = style_dim, seed
        self._codes = None  # drawn once per seed, not per frame

    def codes(self, t: float) -> torch.Tensor:  # -> (1, style_dim)
        if self._codes is None:
            self._codes = random_styles(1, self.style_dim, self.seed)
        return self._codes

    def next_style(self) -> None:
        self.seed += 1
        self._codes = None


class FixedStyles:
    """The same K codes for every frame (example image, codes file, grid)."""

    def __init__(self, codes: torch.Tensor, regenerate: Optional[Callable[[], torch.Tensor]] = None):
        self._codes, self._regenerate = codes, regenerate

    def codes(self, t: float) -> torch.Tensor:  # -> (K, style_dim)
        return self._codes

    def next_style(self) -> None:
        if self._regenerate is not None:
            self._codes = self._regenerate()


class WalkStyle:
    def __init__(self, style_dim: int, seed: int, period: float, max_step: float):
        if period <= 0:
            raise MunitError(f"--period must be > 0 seconds, got {period}")
        if max_step <= 0:
            raise MunitError(f"--max-step must be > 0, got {max_step}")
        self.style_dim, self.seed, self.period, self.max_step = style_dim, seed, period, max_step
        self._keys = {}
        self._previous = None

    def _key(self, index: int) -> torch.Tensor:  # (style_dim,), the same for the same seed and index
        if index not in self._keys:
            self._keys[index] = random_styles(1, self.style_dim, self.seed * 1_000_003 + index)[0]
        return self._keys[index]

    def codes(self, t: float) -> torch.Tensor:  # -> (1, style_dim)
        index = int(math.floor(t / self.period))
        u = t / self.period - index
        eased = u * u * (3.0 - 2.0 * u)
        target = slerp(self._key(index), self._key(index + 1), eased)
        self._previous = limit_step(self._previous, target, self.max_step)
        return self._previous[None]

    def next_style(self) -> None:
        self.seed += 1
        self._keys.clear()


class CycleStyle:
    def __init__(self, bank: torch.Tensor, period: float):
        if period <= 0:
            raise MunitError(f"--period must be > 0 seconds, got {period}")
        self.bank, self.period, self.offset = bank, period, 0

    def codes(self, t: float) -> torch.Tensor:  # -> (1, style_dim)
        index = (int(math.floor(t / self.period)) + self.offset) % self.bank.shape[0]
        return self.bank[index:index + 1]

    def next_style(self) -> None:
        self.offset += 1


GRID_MAX = 64  # styles side by side in one frame


def _positive_int(text: str, spec: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= GRID_MAX:
        raise MunitError(f"--style {spec}: expected grid:K with an integer K from 1 to {GRID_MAX} "
                         "(styles side by side in one frame)")
    return value


def parse_style_mode(spec: str, style_dim: int, seed: int = 0, period: float = 4.0, max_step: float = 0.1,
                     bank_size: int = 8, style_from_image: Optional[Callable[[str], torch.Tensor]] = None):
    """``--style`` value -> a mode with ``codes(t) -> (K, style_dim)`` and ``next_style()``."""
    kind, _, arg = spec.partition(":")
    if kind == "random" and not arg:
        return RandomStyle(style_dim, seed)
    if kind == "walk" and not arg:
        return WalkStyle(style_dim, seed, period, max_step)
    if kind == "grid":
        count = _positive_int(arg, spec)
        state = {"seed": seed}

        def regenerate():
            state["seed"] += 1
            return random_styles(count, style_dim, state["seed"])

        return FixedStyles(random_styles(count, style_dim, seed), regenerate)
    if kind == "image" and arg:
        return FixedStyles(style_from_image(arg))
    if kind == "codes" and arg:
        return FixedStyles(load_style_codes(arg, style_dim))
    if kind == "cycle":
        if bank_size < 1:
            raise MunitError(f"--bank-size must be >= 1, got {bank_size}")
        bank = load_style_codes(arg, style_dim) if arg else random_styles(bank_size, style_dim, seed)
        return CycleStyle(bank, period)
    raise MunitError(f"--style {spec!r}: expected one of {', '.join(STYLE_MODES)}")


class StyleController:
    """The mode plus the window's keys (space: next style, g: grid on/off), safe to call from
    the output thread while the inference thread asks for codes."""

    def __init__(self, mode, style_dim: int, grid_size: int = 4, seed: int = 0):
        self.mode = mode
        self.grid = False
        self._extra = random_styles(max(1, grid_size - 1), style_dim, seed + 7919)
        self._lock = threading.Lock()

    def codes(self, t: float) -> torch.Tensor:  # -> (K, style_dim)
        with self._lock:
            codes = self.mode.codes(t)
            if self.grid:
                codes = torch.cat([codes[:1], self._extra]) if codes.shape[0] == 1 else codes[:1]
            return codes

    def next_style(self) -> None:
        with self._lock:
            self.mode.next_style()

    def toggle_grid(self) -> None:
        with self._lock:
            self.grid = not self.grid
