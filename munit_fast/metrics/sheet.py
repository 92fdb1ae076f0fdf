"""Sample sheet: a grid a person can look at, rows = inputs, columns = input then one per style."""
from __future__ import annotations

from typing import Optional, Sequence

import cv2
import numpy as np
import torch

from munit_fast.images import make_grid, tensor_to_image

MIN_TILE = 128  # small images are enlarged (nearest) to at least this many pixels


def sheet_bytes(rows: int, styles: int, height: int, width: int, channels: int) -> int:
    """Memory a sheet of ``rows`` inputs x ``styles`` translations of height x width takes: the
    float translations and the uint8 tiles, enlarged as `sample_sheet` enlarges them, twice (the
    tiles and the grid)."""
    scale = max(1, -(-MIN_TILE // min(height, width)))
    translations = rows * styles * channels * height * width * 4
    return translations + 2 * rows * (styles + 1) * 3 * height * width * scale * scale


def sample_sheet(inputs: Sequence[torch.Tensor], outputs: Sequence[torch.Tensor],
                 labels: Optional[Sequence[Sequence[str]]] = None) -> np.ndarray:
    """inputs[n] (C_in, H_n, W_n) and outputs[n] (K, C_out, H_n, W_n) in [-1, 1], one row per input;
    labels[n][k] an optional caption per translation (e.g. the classifier's mode).
    -> uint8 BGR grid of N rows x (1 + K) columns; every tile takes the first input's size."""
    height, width = inputs[0].shape[-2:]
    scale = max(1, -(-MIN_TILE // min(height, width)))
    size = (width * scale, height * scale)
    tiles = []
    for row, (image, translations) in enumerate(zip(inputs, outputs)):
        pictures = [tensor_to_image(image)] + [tensor_to_image(out) for out in translations]
        for col, picture in enumerate(pictures):
            if picture.ndim == 2:
                picture = np.repeat(picture[:, :, None], 3, axis=2)
            picture = cv2.resize(picture, size, interpolation=cv2.INTER_NEAREST)
            if labels is not None and col > 0:
                _caption(picture, labels[row][col - 1])
            tiles.append(picture)
    return make_grid(tiles, len(pictures))


def _caption(picture: np.ndarray, text: str) -> None:
    """Write ``text`` in the lower left corner, white on a black box, in place."""
    font, scale, thickness = cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1
    (w, h), base = cv2.getTextSize(text, font, scale, thickness)
    y = picture.shape[0] - 3
    cv2.rectangle(picture, (0, y - h - 3), (w + 4, picture.shape[0]), (0, 0, 0), -1)
    cv2.putText(picture, text, (2, y - 1), font, scale, (255, 255, 255), thickness, cv2.LINE_AA)
