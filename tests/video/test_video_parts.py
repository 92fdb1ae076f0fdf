"""The pipeline's parts: framing and its inverse, sources, layout, Canny preprocessing, stats,
backend choice and the window's keys."""
from __future__ import annotations

import json
import os
import subprocess

import cv2
import numpy as np
import pytest
import torch

from munit_fast.runtime.registry import choose_backend
from munit_fast.video.framing import fit, plan_framing, restore
from munit_fast.video.layout import compose
from munit_fast.video.preprocess import FramePreprocessor, canny_edges
from munit_fast.video.sources import DemoSource, demo_frame, open_source
from munit_fast.video.stats import RunStats, save_summary


@pytest.mark.parametrize("frame, box, mode, scaled, offset, output", [
    ((720, 1280), (256, 256), "letterbox", (144, 256), (56, 0), (720, 1280)),  # landscape: bars top and bottom
    ((480, 360), (128, 128), "letterbox", (128, 96), (0, 16), (480, 360)),  # portrait: bars left and right
    ((720, 1280), (256, 256), "crop", (256, 455), (0, 99), (720, 720)),  # keeps the central square
    ((64, 64), (64, 64), "crop", (64, 64), (0, 0), (64, 64)),  # already the model size: identity
])
def test_plan_framing(frame, box, mode, scaled, offset, output):
    framing = plan_framing(frame, box, mode)
    assert (framing.scaled_size, framing.offset, framing.output_size) == (scaled, offset, output)


@pytest.mark.parametrize("mode", ["letterbox", "crop"])
def test_fit_then_restore_gives_back_the_frame(mode):
    # a smooth image survives down- and up-scaling: mean error stays under 3 of 255 levels
    y, x = np.mgrid[0:90, 0:160]
    frame = np.stack([x * 1.5, y * 2.5, (x + y) * 0.9], axis=2).astype(np.uint8)
    framing = plan_framing(frame.shape[:2], (48, 48), mode)
    boxed = fit(frame, framing)
    assert boxed.shape == (48, 48, 3)
    restored = restore(boxed, framing)
    if mode == "letterbox":
        expected = frame
    else:  # the central 90x90 of the 90x160 frame
        expected = frame[:, 35:125]
    assert restored.shape == expected.shape
    assert np.abs(restored.astype(float) - expected).mean() < 3.0


def test_demo_clip_is_deterministic_and_moves():
    a, b = DemoSource(frames=3, width=64, height=48), DemoSource(frames=3, width=64, height=48)
    frames = [a.read() for _ in range(3)]
    assert a.read() is None
    assert all(np.array_equal(f, b.read()) for f in frames)
    assert frames[0].shape == (48, 64, 3) and frames[0].dtype == np.uint8
    assert not np.array_equal(demo_frame(0.0, 64, 48), demo_frame(1.0, 64, 48))
    assert (frames[0] < 128).mean() > 0.01 and (frames[0] == 255).mean() > 0.5  # dark lines on white


def test_folder_and_glob_sources(tmp_path):
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"f{i}.png"), np.full((20, 30), 40 * i, np.uint8))
    for spec in (str(tmp_path), str(tmp_path / "f*.png")):
        source = open_source(spec)
        frames = [source.read() for _ in range(3)]
        assert source.read() is None and not source.live
        assert [int(f[0, 0, 0]) for f in frames] == [0, 40, 80] and frames[0].shape == (20, 30, 3)


def test_live_flag_defaults_and_override():
    assert not open_source("demo").live
    assert open_source("demo", live=True).live


def test_compose_side_by_side_and_grid():
    tiles = [np.full((10, 12, 3), i, np.uint8) for i in range(5)]
    assert compose(tiles[:1]) is tiles[0]
    assert compose(tiles[:3], input_image=tiles[4]).shape == (10, 48, 3)  # input | 3 styles
    grid = compose(tiles)  # 5 tiles: 3 columns, 2 rows
    assert grid.shape == (20, 36, 3) and grid[10, 12, 0] == 4


def test_canny_draws_dark_edges_on_white():
    frame = np.zeros((64, 64, 3), np.uint8)
    cv2.rectangle(frame, (16, 16), (48, 48), (255, 255, 255), -1)
    edges = canny_edges(frame)
    assert edges.shape == (64, 64, 3)
    assert (edges[5, 5] == 255).all() and (edges[32, 32] == 255).all()  # flat areas are white
    assert (edges[14:19, 32] == 0).any()  # the square's top border is an edge


def test_preprocessor_gives_model_tensor():
    framing = plan_framing((48, 80), (32, 32), "letterbox")
    boxed, tensor = FramePreprocessor(1, (32, 32), "letterbox", "canny")(demo_frame(0.0, 80, 48), framing)
    assert boxed.shape == (32, 32, 3) and tensor.shape == (1, 1, 32, 32)
    assert float(tensor.min()) >= -1.0 and float(tensor.max()) <= 1.0


def test_stats_summary_and_json(tmp_path):
    stats = RunStats()
    for ms in range(1, 101):
        stats.record("inference", ms / 1000.0)
    stats.count("frames_in", 100)
    stats.count("frames_out", 100)
    stats.finish()
    summary = stats.summary()
    inference = summary["stages_ms"]["inference"]
    assert inference["count"] == 100 and abs(inference["mean_ms"] - 50.5) < 1e-9
    assert abs(inference["p50_ms"] - 50.5) < 1e-9 and abs(inference["p99_ms"] - 99.01) < 1e-9
    save_summary(str(tmp_path / "stats.json"), summary)
    assert json.load(open(tmp_path / "stats.json"))["frames_out"] == 100


def test_auto_backend_on_cpu_is_eager_and_named_ones_pass_through():
    assert choose_backend("auto", "cpu") == ("eager", "CPU")
    assert choose_backend("onnx", "cpu")[0] == "onnx"
    if not torch.cuda.is_available():
        assert choose_backend("auto", "auto")[0] == "eager"


def test_window_keys_map_to_actions(monkeypatch, tmp_path):
    from munit_fast.video import output

    monkeypatch.setenv("DISPLAY", ":99")
    keys = iter([ord(" "), ord("g"), ord("s"), ord("q"), 27, -1])
    monkeypatch.setattr(output.cv2, "imshow", lambda title, frame: None)
    monkeypatch.setattr(output.cv2, "waitKey", lambda ms: next(keys))
    window = output.WindowOutput(snapshot_dir=str(tmp_path))
    frame = np.zeros((8, 8, 3), np.uint8)
    assert [window.show(frame) for _ in range(6)] == ["next_style", "toggle_grid", "save", "quit", "quit", None]
    assert window.save(frame).endswith("munit_frame_0000.png") and window.save(frame).endswith("munit_frame_0001.png")


def test_window_without_gui_support_suggests_headless(monkeypatch):
    from munit_fast.errors import MunitError
    from munit_fast.video import output

    monkeypatch.setenv("DISPLAY", ":99")

    def no_gui(title, frame):
        raise cv2.error("The function is not implemented")

    monkeypatch.setattr(output.cv2, "imshow", no_gui)
    with pytest.raises(MunitError, match="--headless --output"):
        output.WindowOutput().show(np.zeros((8, 8, 3), np.uint8))


def test_video_file_is_written_atomically(tmp_path):
    from munit_fast.video.output import VideoFileOutput

    path = tmp_path / "out.avi"
    writer = VideoFileOutput(str(path), 10.0)
    for _ in range(3):
        writer.write(np.zeros((16, 24, 3), np.uint8))
    assert not path.exists()  # nothing at the final name until finalized
    writer.close()
    assert path.exists() and [p.name for p in tmp_path.iterdir()] == ["out.avi"]


def test_two_writers_of_one_output_do_not_share_a_partial_file(tmp_path, monkeypatch):
    """Two runs writing one --output each write their own partial file (the last to finish wins,
    whole); a partial file of a run that died outright goes, one of a live run stays."""
    from munit_fast.video import output

    path = tmp_path / "out.avi"
    dead = subprocess.Popen(["true"])
    dead.wait()
    (tmp_path / f".out.avi.{dead.pid}.partial.avi").write_bytes(b"frames of a killed run")
    (tmp_path / f".out.avi.{os.getppid()}.partial.avi").write_bytes(b"frames of a live run")
    first = output.VideoFileOutput(str(path), 10.0)
    monkeypatch.setattr(output.os, "getpid", lambda: 4 * 10 ** 6)  # the second run's pid
    second = output.VideoFileOutput(str(path), 10.0)
    for writer, shade in ((first, 40), (second, 200)):
        for _ in range(3):
            writer.write(np.full((16, 24, 3), shade, np.uint8))
    assert first._tmp != second._tmp
    second.close()
    first.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".out.avi.{os.getppid()}.partial.avi", "out.avi"]
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    assert len(frames) == 3 and all(abs(float(f.mean()) - 40) < 3 for f in frames)  # the first run's, whole
