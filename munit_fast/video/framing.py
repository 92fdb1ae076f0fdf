"""Fit camera frames into the model's input box keeping the aspect ratio, and map the
translated box back to frame coordinates.

- ``letterbox``: scale the whole frame to fit inside the box, pad the rest (edge replicate,
  so no hard border reaches the network); back: crop the padding off and scale to the frame
  size. Output frames have the input's size.
- ``crop``: scale the frame to cover the box and keep its centre; back: scale to the size of
  the kept region in frame pixels (the part of the frame that was translated).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from munit_fast.errors import MunitError

FIT_MODES = ("letterbox", "crop")


@dataclass(frozen=True)
class Framing:
    """How one frame size maps into the (box_h, box_w) model input."""

    mode: str
    frame_size: tuple  # (H, W) of the source frames
    box_size: tuple  # (h, w) of the model input
    scaled_size: tuple  # (h, w) of the frame after scaling
    offset: tuple  # (y, x) of the scaled frame inside the box (letterbox) or of the box inside it (crop)

    @property
    def output_size(self) -> tuple:
        """(H, W) of the frames that ``restore`` returns."""
        if self.mode == "letterbox":
            return self.frame_size
        scale = self.frame_size[0] / self.scaled_size[0]
        return (round(self.box_size[0] * scale), round(self.box_size[1] * scale))


def plan_framing(frame_size: tuple, box_size: tuple, mode: str = "letterbox") -> Framing:
    if mode not in FIT_MODES:
        raise MunitError(f"--fit {mode!r}: expected one of {', '.join(FIT_MODES)}")
    (fh, fw), (bh, bw) = frame_size, box_size
    scale = min(bh / fh, bw / fw) if mode == "letterbox" else max(bh / fh, bw / fw)
    sh, sw = max(1, round(fh * scale)), max(1, round(fw * scale))
    if mode == "letterbox":
        sh, sw = min(sh, bh), min(sw, bw)
        offset = ((bh - sh) // 2, (bw - sw) // 2)
    else:
        sh, sw = max(sh, bh), max(sw, bw)
        offset = ((sh - bh) // 2, (sw - bw) // 2)
    return Framing(mode, (fh, fw), (bh, bw), (sh, sw), offset)


def _resize(image: np.ndarray, size: tuple) -> np.ndarray:
    """Resize to (h, w): area filter when shrinking, bicubic when enlarging (a model box shown at
    frame size stays sharp)."""
    if image.shape[:2] == tuple(size):
        return image
    shrinking = size[0] * size[1] < image.shape[0] * image.shape[1]
    out = cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)
    return out.reshape(size[0], size[1], *image.shape[2:])


def fit(frame: np.ndarray, framing: Framing) -> np.ndarray:
    """(H, W[, C]) frame -> (box_h, box_w[, C]) model input."""
    scaled = _resize(frame, framing.scaled_size)
    (bh, bw), (y, x) = framing.box_size, framing.offset
    if framing.mode == "crop":
        return scaled[y:y + bh, x:x + bw]
    sh, sw = framing.scaled_size
    return cv2.copyMakeBorder(scaled, y, bh - sh - y, x, bw - sw - x, cv2.BORDER_REPLICATE).reshape(
        bh, bw, *frame.shape[2:])


def restore(image: np.ndarray, framing: Framing) -> np.ndarray:
    """(box_h, box_w[, C]) translated box -> (output_size[, C]) in frame pixels."""
    if framing.mode == "letterbox":
        (y, x), (sh, sw) = framing.offset, framing.scaled_size
        image = image[y:y + sh, x:x + sw]
    return _resize(image, framing.output_size)
