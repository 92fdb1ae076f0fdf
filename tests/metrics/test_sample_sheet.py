"""The sample sheet: rows = inputs, columns = input then styles, small tiles enlarged."""
from __future__ import annotations

import numpy as np
import torch

from munit_fast.metrics.sheet import sample_sheet


def test_layout_and_tile_content():
    inputs = [torch.full((3, 32, 32), -1.0), torch.full((3, 32, 32), 1.0)]
    outputs = [torch.zeros(3, 3, 32, 32), torch.full((3, 3, 32, 32), 1.0)]
    sheet = sample_sheet(inputs, outputs)
    tile, pad = 128, 2  # 32 px enlarged x4 to reach 128
    assert sheet.shape == (2 * tile + pad, 4 * tile + 3 * pad, 3) and sheet.dtype == np.uint8
    assert (sheet[:tile, :tile] == 0).all()  # input of row 0: black
    assert (sheet[:tile, tile + pad:2 * tile + pad] == 128).all()  # its translations: mid grey (0 -> 127.5 -> 128)
    assert (sheet[tile + pad:, :tile] == 255).all()


def test_captions_and_mixed_input_sizes():
    inputs = [torch.zeros(3, 64, 64), torch.zeros(3, 64, 96)]  # a wider second input is fitted to the first
    outputs = [torch.zeros(2, 3, 64, 64), torch.zeros(2, 3, 64, 96)]
    plain = sample_sheet(inputs, outputs)
    captioned = sample_sheet(inputs, outputs, [["ember 0.99", "dusk 0.80"], ["ocean 1.00", "forest 0.51"]])
    assert plain.shape == captioned.shape == (2 * 128 + 2, 3 * 128 + 2 * 2, 3)
    changed = np.abs(plain.astype(int) - captioned.astype(int)).sum(axis=2) > 0
    assert not changed[:, :128].any()  # the input column carries no caption
    assert changed[100:128, 130:258].any()  # the caption sits in the lower left of each translation
