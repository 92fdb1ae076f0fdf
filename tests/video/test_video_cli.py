"""``munit-fast video`` end to end: a generated clip through the whole pipeline to a video file
(headless) keeps the frame count and the expected size, for every style mode and backend."""
from __future__ import annotations

import json

import numpy as np
import pytest
from video_helpers import CLIP_FRAMES, CLIP_HEIGHT, CLIP_WIDTH, REFERENCE_CHECKPOINT, REFERENCE_CONFIG, read_video

from munit_fast.cli.main import main

STYLE_IMAGE = "tests/data/images/edges2handbags_handbag.jpg"


def run_video(*extra):
    return main(["video", "--config", REFERENCE_CONFIG, "--checkpoint", REFERENCE_CHECKPOINT, "--model-size", "32",
                 "--device", "cpu", "--headless", *extra])


@pytest.fixture(scope="module")
def two_codes(tmp_path_factory):
    path = tmp_path_factory.mktemp("codes") / "codes.npy"
    np.save(path, np.random.default_rng(0).standard_normal((2, 8)).astype(np.float32))
    return str(path)


@pytest.mark.parametrize("style, tiles", [
    ("random", 1),
    ("walk", 1),
    ("image:" + STYLE_IMAGE, 1),
    ("codes:{codes}", 2),  # the file's two codes side by side
    ("grid:3", 3),
    ("cycle", 1),
])
def test_every_style_mode_keeps_frame_count_and_size(style, tiles, clip_path, two_codes, tmp_path):
    out = str(tmp_path / "out.avi")
    assert run_video("--input", clip_path, "--style", style.format(codes=two_codes), "--period", "0.05",
                     "--output", out, "--backend", "eager") == 0
    assert read_video(out) == (CLIP_FRAMES, (CLIP_HEIGHT, CLIP_WIDTH * tiles))


@pytest.mark.parametrize("backend", ["eager", "onnx"])
def test_backends_keep_frame_count_and_size(backend, clip_path, tmp_path):
    out = str(tmp_path / "out.mp4")
    export = ["--onnx-dir", str(tmp_path / "onnx")] if backend == "onnx" else []
    assert run_video("--input", clip_path, "--output", out, "--backend", backend, *export) == 0
    assert read_video(out) == (CLIP_FRAMES, (CLIP_HEIGHT, CLIP_WIDTH))


def test_demo_crop_side_by_side_with_stats(tmp_path, capsys):
    out, stats = str(tmp_path / "demo.mp4"), str(tmp_path / "stats.json")
    assert run_video("--input", "demo", "--frames", "5", "--width", "64", "--height", "40", "--fit", "crop",
                     "--side-by-side", "--overlay", "--preprocess", "canny", "--output", out, "--stats", stats) == 0
    # crop keeps the central 40x40 of each 64x40 frame; side by side: input | output
    assert read_video(out) == (5, (40, 80))
    summary = json.load(open(stats))
    assert summary["frames_in"] == summary["frames_out"] == 5 and summary["dropped"] == 0
    assert set(summary["stages_ms"]) == {"capture", "preprocess", "inference", "output", "latency"}
    captured = capsys.readouterr()
    assert "munit-fast: backend eager-fp32 (CPU)" in captured.out and "p95" in captured.out
