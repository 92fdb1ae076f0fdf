"""The fps/style overlay: readable on white and dark pictures, confined to its panel, safe on
frames smaller than the text."""
from __future__ import annotations

import numpy as np
import pytest

from munit_fast.video.overlay import PANEL_OPACITY, draw_overlay, overlay_lines

LINES = overlay_lines(45.8, 21.7, "eager-fp32", "walk")


@pytest.mark.parametrize("grey", [255, 40])
def test_text_is_white_on_a_darkened_panel_and_the_rest_untouched(grey):
    frame = np.full((256, 512, 3), grey, np.uint8)
    out = draw_overlay(frame, LINES)
    changed = np.argwhere((out != frame).any(axis=2))
    bottom, right = changed.max(axis=0) + 1
    assert 20 <= bottom <= 60 and 60 <= right <= 200  # two lines of text, top-left
    assert (out[bottom:] == frame[bottom:]).all() and (out[:, right:] == frame[:, right:]).all()
    panel = out[:bottom, :right].astype(int)
    dark = round(grey * (1 - PANEL_OPACITY))
    assert (panel.min(axis=2) >= dark - 1).all()  # nothing darker than the panel itself
    assert (panel == dark).all(axis=2).mean() > 0.5 and (panel >= 250).all(axis=2).sum() > 50  # panel + white text
    assert out is not frame and (frame == grey).all()  # drawn on a copy


def test_a_frame_smaller_than_the_text_is_drawn_without_error():
    frame = np.zeros((16, 24, 3), np.uint8) + 200
    out = draw_overlay(frame, LINES)
    assert out.shape == frame.shape and (out[0, 0] == round(200 * (1 - PANEL_OPACITY))).all()


def test_no_rate_is_shown_before_one_is_measured():
    assert overlay_lines(0.0, 22.4, "eager-fp32", "walk")[0] == "   -- fps    22.4 ms"
    assert overlay_lines(45.84, 22.4, "eager-fp32", "walk") == [" 45.8 fps    22.4 ms", "eager-fp32  walk"]
