"""Frame sources for ``munit-fast video``: camera, video file, network stream, image folder or
glob, and ``demo`` (a generated clip of moving line sketches).

Every source yields BGR uint8 frames (H, W, 3) from ``read()`` (None when it has ended) and
says whether it is ``live``: live sources (camera, stream) keep producing frames whatever we
do, so the pipeline drops stale ones; the others are processed frame by frame.
"""
from __future__ import annotations

import glob
import math
import os
import re
import time
from typing import Callable, List, Optional

import cv2
import numpy as np

from munit_fast.capture import open_quietly, open_video
from munit_fast.errors import MunitError
from munit_fast.images import list_images, read_image_uint8

STREAM_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://")
DEFAULT_FPS = 30.0


class Source:
    """Base class: ``read() -> (H, W, 3) uint8 BGR or None``, ``fps``, ``live``, ``close()``."""

    live = False
    fps = DEFAULT_FPS
    description = "source"

    def read(self) -> Optional[np.ndarray]:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _as_bgr(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    return frame


def _configure(capture, width: Optional[int], height: Optional[int], fps: Optional[float]) -> None:
    if width:
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
    if height:
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
    if fps:
        capture.set(cv2.CAP_PROP_FPS, fps)


def _capture_fps(capture, requested: Optional[float]) -> float:
    reported = capture.get(cv2.CAP_PROP_FPS)
    if requested:
        return float(requested)
    return float(reported) if reported and 0 < reported < 1000 else DEFAULT_FPS


class CameraSource(Source):
    """A webcam through OpenCV, by index."""

    live = True

    def __init__(self, index: int, width=None, height=None, fps=None, opener: Optional[Callable] = None):
        self.description = f"camera {index}"
        self.capture = open_quietly(opener or cv2.VideoCapture, index)
        if not self.capture.isOpened():
            raise MunitError(f"cannot open camera {index} (--input cam{index}): no such camera or it is busy; "
                             "try another index, --input demo or a video file")
        _configure(self.capture, width, height, fps)
        self.fps = _capture_fps(self.capture, fps)

    def read(self):
        ok, frame = self.capture.read()
        return _as_bgr(frame) if ok else None

    def close(self):
        self.capture.release()


class VideoFileSource(Source):
    """A video file: every frame in order, finishing cleanly at the end."""

    def __init__(self, path: str, opener: Optional[Callable] = None):
        if not os.path.exists(path):
            raise MunitError(f"input not found: {path}; pass a video file, an image folder, camN, a stream URL or demo")
        self.description = path
        self.capture = (opener or open_video)(path)
        if not self.capture.isOpened():
            raise MunitError(f"cannot read video {path}: not a video OpenCV/FFmpeg can decode "
                             "(mp4, avi, mkv, mov, webm)")
        self.fps = _capture_fps(self.capture, None)
        self._frames = 0

    def read(self):
        ok, frame = self.capture.read()
        if not ok:
            if self._frames == 0:
                raise MunitError(f"cannot read video {self.description}: no decodable frames")
            return None
        self._frames += 1
        return _as_bgr(frame)

    def close(self):
        self.capture.release()


class StreamSource(Source):
    """An RTSP/HTTP/... stream. A stream that stops sending frames is reopened up to
    ``retries`` times; after that the run ends with an error."""

    live = True

    def __init__(self, url: str, retries: int = 3, retry_delay: float = 1.0, opener: Optional[Callable] = None):
        self.description = url
        self.url = url
        self.retries = retries
        self.retry_delay = retry_delay
        self.opener = opener or open_video
        self.capture = self.opener(url)
        if not self.capture.isOpened():
            raise MunitError(f"cannot open stream {url}: no answer or not a video stream; check the URL, "
                             "or try --input demo or a video file")
        self.fps = _capture_fps(self.capture, None)

    def read(self):
        ok, frame = self.capture.read()
        attempt = 0
        while not ok:
            if attempt == self.retries:
                raise MunitError(f"stream {self.url} stopped sending frames and did not come back after "
                                 f"{self.retries} retries")
            attempt += 1
            self.capture.release()
            time.sleep(self.retry_delay)
            self.capture = self.opener(self.url)
            ok, frame = self.capture.read() if self.capture.isOpened() else (False, None)
        return _as_bgr(frame)

    def close(self):
        self.capture.release()


class ImageSequenceSource(Source):
    """The images of a folder (sorted, recursive) or a glob pattern, one frame each."""

    def __init__(self, files: List[str], description: str, fps: float = DEFAULT_FPS):
        self.files = files
        self.description = description
        self.fps = fps
        self._next = 0

    def read(self):
        if self._next == len(self.files):
            return None
        path = self.files[self._next]
        self._next += 1
        # Pillow, as translate reads files: truncated or corrupt images are refused by name
        return np.ascontiguousarray(read_image_uint8(path, 3)[:, :, ::-1])


class DemoSource(Source):
    """A generated clip: dark line sketches (a polygon, a circle, a zigzag) that move and rotate
    on a white background, like the edge maps of the edges2* datasets. ``live=True`` paces it
    at ``fps`` like a camera."""

    def __init__(self, frames: int = 150, width: int = 256, height: int = 256, fps: float = DEFAULT_FPS,
                 live: bool = False):
        self.frames = frames
        self.width = width
        self.height = height
        self.fps = fps
        self.live = live
        self.description = f"demo clip ({frames} frames, {width}x{height})"
        self._index = 0
        self._start = None

    def read(self):
        if self.frames and self._index >= self.frames:
            return None
        if self.live:
            self._start = self._start or time.perf_counter()
            delay = self._start + self._index / self.fps - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        frame = demo_frame(self._index / self.fps, self.width, self.height)
        self._index += 1
        return frame


def demo_frame(t: float, width: int, height: int) -> np.ndarray:
    """One (height, width, 3) uint8 frame of the demo clip at time ``t`` seconds: a line sketch
    like the built-in shapes dataset's domain A (black outline on white) that drifts, rotates,
    breathes and changes family every 3 seconds."""
    from munit_fast.data.synthetic import FAMILIES, Shape, render_sketch

    size = min(width, height)
    family = FAMILIES[int(t // 3.0) % len(FAMILIES)]
    shape = Shape(family, cx=0.5 + 0.12 * math.sin(0.9 * t), cy=0.5 + 0.1 * math.cos(0.7 * t),
                  radius=0.27 + 0.04 * math.sin(1.3 * t), angle=40.0 * t, aspect=0.75 + 0.2 * math.sin(0.5 * t))
    sketch = (render_sketch(shape, size, line_width=max(2, size // 32)) * 255.0).round().astype(np.uint8)
    frame = np.full((height, width, 3), 255, np.uint8)
    top, left = (height - size) // 2, (width - size) // 2
    frame[top:top + size, left:left + size] = sketch
    return frame


def open_source(spec: str, width: Optional[int] = None, height: Optional[int] = None, fps: Optional[float] = None,
                live: Optional[bool] = None, demo_frames: int = 150, retries: int = 3) -> Source:
    """``spec``: camN or an integer, demo, a stream URL, a folder, a glob pattern or a video file.
    ``live`` overrides whether frames may be dropped (None: live for cameras and streams)."""
    camera = re.fullmatch(r"(?:cam)?(\d+)", spec)
    if camera:
        source = CameraSource(int(camera.group(1)), width, height, fps)
    elif spec == "demo":
        source = DemoSource(demo_frames, width or 256, height or 256, fps or DEFAULT_FPS, live=bool(live))
    elif spec.lower().startswith(STREAM_SCHEMES):
        source = StreamSource(spec, retries=retries)
    elif os.path.isdir(spec):
        files = list_images(spec)
        if not files:
            raise MunitError(f"no images found in folder {spec} (looked for jpg, png, bmp, ppm, webp, tiff)")
        source = ImageSequenceSource(files, spec, fps or DEFAULT_FPS)
    elif glob.has_magic(spec):
        files = sorted(glob.glob(spec))
        if not files:
            raise MunitError(f"no files match {spec}; quote the pattern so the shell does not expand it")
        source = ImageSequenceSource(files, spec, fps or DEFAULT_FPS)
    else:
        source = VideoFileSource(spec)
    if live is not None:
        source.live = live
    return source
