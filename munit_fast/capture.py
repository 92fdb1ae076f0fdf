"""Opening OpenCV video captures quietly: OpenCV and FFmpeg print lines of their own on stderr
when a camera, file or stream cannot be opened; munit-fast reports a failure in one line."""
from __future__ import annotations

from typing import Callable

import cv2


def open_video(target: str):
    """cv2.VideoCapture of a file or stream, through FFmpeg where OpenCV has it: OpenCV's own
    fallback reader of MJPEG AVI files prints raw lines (not even UTF-8) on a damaged file."""
    if cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG):
        return open_quietly(lambda name: cv2.VideoCapture(name, cv2.CAP_FFMPEG), target)
    return cv2.VideoCapture(target)


def open_quietly(opener: Callable, target):
    """Opens a capture with OpenCV's own probe warnings silenced (a missing camera makes each
    backend print one); the caller reports a failure in one line of its own."""
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    try:
        return opener(target)
    finally:
        cv2.utils.logging.setLogLevel(level)
