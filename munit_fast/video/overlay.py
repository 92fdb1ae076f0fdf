"""Text drawn over the shown frames: achieved fps, latency, backend and style mode."""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX
PANEL_OPACITY = 0.6  # of the dark panel behind the text: the picture stays visible under it


def draw_overlay(frame: np.ndarray, lines: Sequence[str]) -> np.ndarray:
    """Draw ``lines`` top-left on a copy of the (H, W, 3) uint8 frame: white text on a translucent
    dark panel, so it reads on white sketches and dark translations alike and survives video
    compression; the text scales with the frame height (readable from 256-pixel frames up)."""
    out = frame.copy()
    scale = max(0.45, frame.shape[0] / 720.0)
    thickness = max(1, round(scale * 1.5))
    sizes = [cv2.getTextSize(text, FONT, scale, thickness)[0] for text in lines]
    line_height = max(height for _, height in sizes) + int(8 * scale) + 2
    margin = max(3, int(6 * scale))
    right = min(frame.shape[1], margin * 2 + max(width for width, _ in sizes))
    bottom = min(frame.shape[0], margin + line_height * len(lines))
    panel = out[:bottom, :right].astype(np.float32)
    out[:bottom, :right] = (panel * (1.0 - PANEL_OPACITY)).round().astype(np.uint8)
    for i, text in enumerate(lines):
        origin = (margin, margin // 2 + line_height * (i + 1) - int(4 * scale))
        cv2.putText(out, text, origin, FONT, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return out


def overlay_lines(fps: float, latency_ms: float, backend: str, style: str) -> list:
    """The overlay's text; ``fps`` 0 (none measured yet, the first frames) reads as ``--``."""
    rate = f"{fps:5.1f}" if fps > 0 else "   --"
    return [f"{rate} fps  {latency_ms:6.1f} ms", f"{backend}  {style}"]
