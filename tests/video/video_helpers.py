"""Helpers of the video tests: the tiny reference model's files, a generated clip on disk,
reading a video back, and a scripted translator that records the codes it is given."""
from __future__ import annotations

import os
import time

import cv2

from munit_fast.video.sources import demo_frame

REFERENCE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "official_munit")
REFERENCE_CONFIG = os.path.join(REFERENCE, "config.yaml")
REFERENCE_CHECKPOINT = os.path.join(REFERENCE, "gen_00000001.pt")
CLIP_FRAMES, CLIP_HEIGHT, CLIP_WIDTH = 6, 48, 80  # odd aspect so letterboxing is exercised


def write_clip(path: str, frames: int = CLIP_FRAMES, height: int = CLIP_HEIGHT, width: int = CLIP_WIDTH) -> str:
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (width, height))
    assert writer.isOpened()
    for i in range(frames):
        writer.write(demo_frame(i / 30.0, width, height))
    writer.release()
    return path


def read_video(path: str):
    """-> (frame count, (height, width)) by decoding every frame."""
    capture = cv2.VideoCapture(path)
    count, size = 0, None
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        count, size = count + 1, frame.shape[:2]
    capture.release()
    return count, size


class ScriptedTranslator:
    """The Translator interface without a network: decode returns the content's first channel
    broadcast to K images, after ``delay`` seconds (a slow backend), and records the codes."""

    name = "scripted"
    style_dim = 8
    input_dim = output_dim = 3

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.codes = []  # (K, style_dim) per decoded frame, in order

    def encode_content(self, images):  # (1, 3, h, w) -> (1, 3, h, w)
        return images

    def decode(self, content, styles, size=None):  # -> (K, 3, h, w)
        if self.delay:
            time.sleep(self.delay)
        self.codes.append(styles.clone())
        return content.expand(styles.shape[0], -1, -1, -1).clone()
