"""munit-fast video: outputs checked before any frame, signals finalize the file, size guards."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import cv2
import pytest

from .conftest import MODEL, ROOT, assert_one_line_failure, run_child, run_in_process

BASE = ["video", *MODEL, "--device", "cpu", "--backend", "eager", "--headless", "--input", "demo"]


@pytest.mark.parametrize("extra, message", [
    (["--output", "/proc/munit-fast.mp4"], "cannot write --output /proc/munit-fast.mp4"),
    (["--output", "{tmp}/clip.xyz"], "unsupported video extension"),
    (["--output", "{tmp}/clip.mp4", "--fps", "-5"], "argument --fps"),
    (["--stats", "{tmp}"], "cannot write --stats"),
    (["--style", "grid:100000"], "grid:K with an integer K from 1 to 64"),
    (["--width", "100000"], "argument --width"),
    (["--height", "0"], "argument --height"),
    (["--model-size", "40000"], "--model-size '40000'"),
    (["--seed", "-3"], "argument --seed"),
])
def test_bad_options_fail_before_any_frame(capsys, tmp_path, extra, message):
    started = time.perf_counter()
    extra = [e.format(tmp=tmp_path) for e in extra]
    assert_one_line_failure(run_in_process(capsys, *BASE, *extra), contains=message)
    assert time.perf_counter() - started < 30  # no frame was translated first
    assert os.listdir(tmp_path) == []


def _start(out, stats, ignore_sigint=False):
    def child_setup():
        if ignore_sigint:  # as a script's background job inherits it
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    argv = [sys.executable, "-m", "munit_fast", *BASE, "--frames", "0", "--model-size", "32", "--output", str(out),
            "--stats", str(stats)]
    return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS="1"), preexec_fn=child_setup)


@pytest.mark.parametrize("source, message", [
    ("{tmp}/fake.mp4", "not a video OpenCV/FFmpeg can decode"),
    ("{tmp}/half.avi", "cut.avi"),
    ("rtsp://127.0.0.1:9/none", "cannot open stream rtsp://127.0.0.1:9/none"),
])
def test_ffmpeg_prints_nothing_of_its_own_before_the_one_line_error(tmp_path, source, message):
    """In a child process, where FFmpeg's own stderr lines ("moov atom not found") would show."""
    (tmp_path / "fake.mp4").write_bytes(b"not a video" * 100)
    clip = tmp_path / "whole.avi"
    assert run_child(*BASE[:-1], "demo", "--frames", "10", "--model-size", "32", "--output", str(clip))[0] == 0
    (tmp_path / "half.avi").write_bytes(clip.read_bytes()[:200])
    message = message.replace("cut.avi", "half.avi")
    argv = [a if a != "demo" else source.format(tmp=tmp_path) for a in BASE]
    assert_one_line_failure(run_child(*argv, "--frames", "3", "--model-size", "32"), contains=message)


@pytest.mark.parametrize("signum, ignore_sigint", [(signal.SIGTERM, False), (signal.SIGHUP, False),
                                                   (signal.SIGINT, True)],
                         ids=["sigterm", "sighup", "sigint-inherited-ignored"])
def test_signals_finalize_the_output(tmp_path, signum, ignore_sigint):
    out, stats = tmp_path / "clip.avi", tmp_path / "stats.json"
    proc = _start(out, stats, ignore_sigint)
    try:
        deadline = time.time() + 120
        partial = tmp_path / f".clip.avi.{proc.pid}.partial.avi"
        while not (partial.exists() and partial.stat().st_size > 20000):  # a few frames written
            assert proc.poll() is None, proc.communicate()
            assert time.time() < deadline, "no frames within 120 s"
            time.sleep(0.1)
        proc.send_signal(signum)
        stdout, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signum, err
    assert err.strip().splitlines()[-1] == f"munit-fast: error: interrupted by {signal.Signals(signum).name}"
    assert "Traceback" not in err and not partial.exists()
    capture = cv2.VideoCapture(str(out))
    frames = 0
    while capture.read()[0]:
        frames += 1
    assert frames > 0  # a playable file, not a 44-byte stub
    summary = json.loads(stats.read_text())
    assert abs(summary["frames_out"] - frames) <= 1  # the signal may land between a write and its count
    assert "latency" in stdout
