"""Text drawn over the shown frames: achieved fps, latency, backend and style mode."""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np


def draw_overlay(frame: np.ndarray, lines: Sequence[str]) -> np.ndarray:
    """Draw ``lines`` top-left on a copy of the (H, W, 3) uint8 frame, white on a dark outline
    so it reads on any picture; the text scales with the frame height."""
    out = frame.copy()
    scale = max(0.35, frame.shape[0] / 720.0)
    thickness = max(1, round(scale * 1.5))
    line_height = int(22 * scale) + 4
    for i, text in enumerate(lines):
        origin = (6, line_height * (i + 1))
        cv2.putText(out, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
        cv2.putText(out, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return out


def overlay_lines(fps: float, latency_ms: float, backend: str, style: str) -> list:
    return [f"{fps:5.1f} fps  {latency_ms:6.1f} ms", f"{backend}  {style}"]
