"""Where translated frames go: a video file (codec from the extension, written to a temporary
file and renamed when finalized), a preview window with keys, or nowhere (``--headless``)."""
from __future__ import annotations

import os
import re
import sys
from typing import Optional

import cv2
import numpy as np

from munit_fast.errors import MunitError, write_error
from munit_fast.files import check_writable
from munit_fast.images import write_image

CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".mkv": "mp4v", ".avi": "MJPG"}

# Window keys -> actions (space: new random style, s: save frame, g: grid on/off,
# o: overlay on/off, q / Esc: quit).
KEY_ACTIONS = {ord(" "): "next_style", ord("s"): "save", ord("g"): "toggle_grid", ord("o"): "toggle_overlay",
               ord("q"): "quit", 27: "quit"}


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, another user's
        return True
    return True


def _remove_partials_of_dead_runs(folder: str, name: str, ext: str) -> None:
    """The partial files of ``name`` that runs killed outright (SIGKILL, power loss) left behind."""
    pattern = re.compile(rf"\.{re.escape(name)}\.(\d+)\.partial{re.escape(ext)}")
    for entry in os.listdir(folder):
        match = pattern.fullmatch(entry)
        if match and not _process_alive(int(match.group(1))):
            try:
                os.unlink(os.path.join(folder, entry))
            except OSError:
                pass


class VideoFileOutput:
    """Frames of one size to ``path``; nothing appears at ``path`` until ``close()``. Whether
    ``path`` can be written is checked at construction, before any frame is translated."""

    def __init__(self, path: str, fps: Optional[float] = None):
        """``fps`` may be set later, before the first frame (the source's rate once it is open)."""
        ext = os.path.splitext(path)[1].lower()
        if ext not in CODECS:
            raise MunitError(f"--output {path}: unsupported video extension {ext or '(none)'!r}; "
                             f"use one of {', '.join(CODECS)}")
        if fps is not None and not fps > 0:
            raise MunitError(f"--fps {fps}: expected a frame rate > 0")
        check_writable(path, "--output")
        folder = os.path.dirname(os.path.abspath(path))
        self.path, self.fps, self.codec = path, fps, CODECS[ext]
        # one partial file per process: two runs writing one --output cannot interleave their frames
        self._tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.partial{ext}")
        _remove_partials_of_dead_runs(folder, os.path.basename(path), ext)
        self._writer = None
        self._size = None

    def write(self, frame: np.ndarray) -> None:  # frame (H, W, 3) uint8 BGR
        size = (frame.shape[1], frame.shape[0])
        if self._writer is None:
            writer = cv2.VideoWriter(self._tmp, cv2.VideoWriter_fourcc(*self.codec), self.fps, size)
            if not writer.isOpened():
                raise MunitError(f"--output {self.path}: OpenCV cannot write {self.codec} video of {size[0]}x{size[1]} "
                                 f"at {self.fps} fps here; try .avi")
            self._writer, self._size = writer, size
        if size != self._size:  # toggling the grid changes the picture: keep the file's size
            frame = cv2.resize(frame, self._size, interpolation=cv2.INTER_AREA)
        self._writer.write(frame)

    def close(self) -> None:
        """Finalize the file (playable whatever stopped the run) and move it to ``path``."""
        if self._writer is None:
            return
        self._writer.release()
        self._writer = None
        if not os.path.isfile(self._tmp) or os.path.getsize(self._tmp) == 0:
            raise MunitError(f"--output {self.path}: OpenCV wrote no video data; try .avi")
        try:
            os.replace(self._tmp, self.path)
        except OSError as exc:
            raise write_error(self.path, exc) from None


def check_display() -> None:
    """Raise the promised one-line error when no window can be shown."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise MunitError("no display available for the preview window; use --headless --output out.mp4")


class WindowOutput:
    def __init__(self, title: str = "munit-fast video", snapshot_dir: str = "."):
        check_display()
        self.title, self.snapshot_dir, self._saved = title, snapshot_dir, 0

    def show(self, frame: np.ndarray) -> Optional[str]:
        """Show the frame; return the action of the pressed key, if any."""
        try:
            cv2.imshow(self.title, frame)
            key = cv2.waitKey(1) & 0xFF
        except cv2.error:
            raise MunitError("cannot open a preview window (OpenCV built without GUI support); "
                             "use --headless --output out.mp4") from None
        return KEY_ACTIONS.get(key)

    def save(self, frame: np.ndarray) -> str:
        """Save the frame as the next free munit_frame_NNNN.png of the snapshot folder."""
        while True:
            path = os.path.join(self.snapshot_dir, f"munit_frame_{self._saved:04d}.png")
            self._saved += 1
            if not os.path.exists(path):
                break
        write_image(path, frame)
        return path

    def close(self) -> None:
        try:
            cv2.destroyWindow(self.title)
        except cv2.error:
            pass
