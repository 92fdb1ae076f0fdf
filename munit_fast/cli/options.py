"""Value types for command-line options: each rejects a bad value with one line naming the
option's accepted range (argparse prints it as ``munit-fast: error: argument --seed: ...``)."""
from __future__ import annotations

import argparse

SEED_MAX = 2 ** 63 - 1  # torch.manual_seed and numpy accept 0 .. 2^63 - 1
FRAME_SIDE_MAX = 8192  # camera/demo frames and model inputs: an 8K frame is the largest


def seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"expected a seed in 0 .. 2^63-1, got {text}")
    return value


def bounded_int(minimum: int, maximum: int = None):
    """An int type accepting minimum .. maximum (no maximum when None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            span = f"{minimum} .. {maximum}" if maximum is not None else f">= {minimum}"
            raise argparse.ArgumentTypeError(f"expected an integer {span}, got {text}")
        return value

    parse.__name__ = "integer"
    return parse


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}")
    return value


frame_side = bounded_int(16, FRAME_SIDE_MAX)
