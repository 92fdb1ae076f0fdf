"""Camera frame -> model input: fit into the model box, optional edge map, [-1, 1] tensor.

``--preprocess canny`` turns photos into edge maps like the edges2shoes/edges2handbags
training data (HED edges drawn dark on white): blur, Canny, invert.
"""
from __future__ import annotations

import cv2
import numpy as np

from munit_fast.errors import MunitError
from munit_fast.images import image_to_tensor, to_channels

from .framing import Framing, fit

PREPROCESSORS = ("none", "canny")


def canny_edges(frame: np.ndarray, low: int = 50, high: int = 150) -> np.ndarray:
    """(H, W, 3) uint8 BGR -> (H, W, 3) uint8: black edges on white."""
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    edges = cv2.Canny(cv2.GaussianBlur(gray, (5, 5), 1.2), low, high)
    return cv2.cvtColor(255 - edges, cv2.COLOR_GRAY2BGR)


class FramePreprocessor:
    def __init__(self, channels: int, box_size: tuple, fit_mode: str, preprocess: str = "none",
                 canny_low: int = 50, canny_high: int = 150):
        if preprocess not in PREPROCESSORS:
            raise MunitError(f"--preprocess {preprocess!r}: expected one of {', '.join(PREPROCESSORS)}")
        if preprocess == "canny" and not 0 <= canny_low < canny_high:
            raise MunitError(f"--canny {canny_low},{canny_high}: expected 0 <= LOW < HIGH")
        self.channels, self.box_size, self.fit_mode = channels, box_size, fit_mode
        self.preprocess, self.canny_low, self.canny_high = preprocess, canny_low, canny_high

    def __call__(self, frame: np.ndarray, framing: Framing):
        """(H, W, 3) uint8 BGR -> (model input shown to the user (h, w, 3) uint8 BGR,
        tensor (1, C_in, h, w) fp32 in [-1, 1])."""
        boxed = fit(frame, framing)
        if self.preprocess == "canny":
            boxed = canny_edges(boxed, self.canny_low, self.canny_high)
        return boxed, image_to_tensor(to_channels(boxed, self.channels))
