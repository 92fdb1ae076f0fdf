"""Arrange the translated styles (and optionally the input) of one frame into one picture."""
from __future__ import annotations

import math
from typing import List, Optional

import numpy as np

from munit_fast.images import make_grid


def grid_columns(tiles: int) -> int:
    """Side by side up to 4 tiles, then a near-square grid."""
    return tiles if tiles <= 4 else math.ceil(math.sqrt(tiles))


def compose(outputs: List[np.ndarray], input_image: Optional[np.ndarray] = None) -> np.ndarray:
    """outputs: K equally sized (H, W, 3) uint8 BGR images; input_image: (H, W, 3) shown first
    (side-by-side view) -> one (rows*H, columns*W, 3) uint8 picture, or the single output as is."""
    tiles = ([input_image] if input_image is not None else []) + list(outputs)
    if len(tiles) == 1:
        return tiles[0]
    return make_grid(tiles, grid_columns(len(tiles)), pad=0)
