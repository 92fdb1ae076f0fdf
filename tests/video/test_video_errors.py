"""The promised one-line messages: bad camera index, missing file, unreadable stream or video,
no display, a stream that drops mid-run (output finalized, non-zero exit), bad options."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from video_helpers import REFERENCE_CHECKPOINT, REFERENCE_CONFIG, read_video

from munit_fast.cli.main import main
from munit_fast.errors import MunitError
from munit_fast.video.sources import open_source


def run_video(*extra):
    return main(["video", "--config", REFERENCE_CONFIG, "--checkpoint", REFERENCE_CHECKPOINT, "--model-size", "32",
                 "--device", "cpu", "--backend", "eager", *extra])


def error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.strip().splitlines() if not line.startswith("munit-fast: backend ")]
    assert len(lines) == 1 and "Traceback" not in err, lines  # one line (after the backend choice), no traceback
    return lines[0]


@pytest.mark.parametrize("spec, message", [
    ("cam97", r"cannot open camera 97 \(--input cam97\).*--input demo or a video file"),
    ("97", r"cannot open camera 97"),
    ("missing_clip.mp4", r"input not found: missing_clip.mp4"),
    ("rtsp://127.0.0.1:1/none", r"cannot open stream rtsp://127.0.0.1:1/none.*--input demo"),
    ("http://127.0.0.1:1/video.mjpg", r"cannot open stream http://127.0.0.1:1/video.mjpg"),
    ("no_such_folder/*.png", r"no files match no_such_folder/\*.png"),
])
def test_bad_sources_raise_one_line_errors(spec, message):
    with pytest.raises(MunitError, match=message):
        open_source(spec)


@pytest.mark.parametrize("flag", [["--cuda-graphs"], ["--cuda-graphs", "on"]], ids=["bare", "on"])
def test_requested_cuda_graphs_on_a_cpu_is_a_one_line_error(flag, capsys, clip_path):
    """Graphs are automatic on CUDA; asked for explicitly on a CPU they are an error, not ignored."""
    assert run_video("--input", clip_path, "--headless", *flag) == 2
    assert "--cuda-graphs needs a CUDA device" in error_line(capsys)


def test_missing_camera_prints_only_our_line(capfd):
    """OpenCV's own probe warnings (one per capture backend) are silenced while a camera
    opens, and its log level is restored afterwards."""
    level = cv2.utils.logging.getLogLevel()
    with pytest.raises(MunitError, match="cannot open camera 97"):
        open_source("cam97")
    assert "WARN" not in capfd.readouterr().err
    assert cv2.utils.logging.getLogLevel() == level


def test_unreadable_video_file(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("not a video")
    with pytest.raises(MunitError, match=r"cannot read video .*notes.mp4"):
        source = open_source(str(path))
        source.read()


def test_bad_camera_through_the_command(capsys):
    assert run_video("--input", "cam97", "--headless") == 2
    line = error_line(capsys)
    assert "camera 97" in line and "--input demo" in line


def test_no_display_suggests_headless_output(monkeypatch, capsys, clip_path):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert run_video("--input", clip_path) == 2
    line = error_line(capsys)
    assert "no display available" in line and "use --headless --output" in line


def test_no_display_message_text(monkeypatch):
    from munit_fast.video.output import check_display

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(MunitError, match=r"no display available.*use --headless --output out.mp4"):
        check_display()


class DroppingCapture:
    """A stream whose first connection gives 3 frames and then dies; reconnecting fails."""

    opened = 0

    def __init__(self, url, *api_preference):
        DroppingCapture.opened += 1
        self.alive = DroppingCapture.opened == 1
        self.left = 3

    def isOpened(self):
        return self.alive

    def get(self, prop):
        return 25.0

    def read(self):
        if self.alive and self.left:
            self.left -= 1
            return True, np.full((32, 48, 3), 128, np.uint8)
        return False, None

    def release(self):
        pass


def test_stream_drop_finalizes_the_output_and_exits_non_zero(monkeypatch, capsys, tmp_path):
    import munit_fast.video.sources as sources

    DroppingCapture.opened = 0
    monkeypatch.setattr(sources.cv2, "VideoCapture", DroppingCapture)
    out = str(tmp_path / "partial.avi")
    status = run_video("--input", "rtsp://camera.local/live", "--live", "off", "--retries", "1", "--headless",
                       "--output", out)
    monkeypatch.undo()  # read the result with the real VideoCapture
    assert status == 2
    assert "stream rtsp://camera.local/live stopped sending frames" in capsys.readouterr().err
    assert read_video(out) == (3, (32, 48))  # finalized: every frame received before the drop


@pytest.mark.parametrize("option, value, message", [
    ("--style", "sparkles", "--style 'sparkles'"),
    ("--output", "out.gif", "unsupported video extension '.gif'"),
    ("--model-size", "0", "--model-size '0'"),
    ("--period", "0", "--period must be > 0"),
    ("--canny", "high", "--canny 'high'"),
])
def test_bad_options_name_the_option(option, value, message, capsys, clip_path, tmp_path):
    if option == "--output":
        value = str(tmp_path / value)
    assert run_video("--input", clip_path, "--headless", option, value) == 2
    assert message in error_line(capsys)
