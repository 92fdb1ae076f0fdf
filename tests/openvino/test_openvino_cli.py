"""The openvino backend through the command line: export openvino, translate, video, demo."""
from __future__ import annotations

import json
import os

import cv2

from munit_fast.cli.main import main
from munit_fast.export.openvino_export import read_ir_metadata
from tests.conftest import SAMPLE_IMAGES
from tests.reliability.conftest import assert_one_line_failure, no_partial_files, run_in_process


def test_export_openvino_writes_ir_with_metadata(tmp_path, capsys):
    out = tmp_path / "ir"
    assert main(["export", "openvino", "--output", str(out), "--precision", "int8", "--calib", SAMPLE_IMAGES,
                 "--calib-images", "4"]) == 0
    printed = capsys.readouterr().out
    assert "decoder" in printed and "int8" in printed
    names = sorted(os.listdir(out))
    assert names == sorted(f"munit_a2b_{part}_int8.{ext}" for part in ("content_encoder", "decoder", "style_encoder")
                           for ext in ("xml", "bin"))
    meta = read_ir_metadata(str(out / "munit_a2b_decoder_int8.xml"))
    assert meta["precision"] == "int8" and meta["style_dim"] == "2" and meta["int8"] == "yes"
    assert meta["calibration"] == f"4 images of {SAMPLE_IMAGES}"
    assert read_ir_metadata(str(out / "munit_a2b_style_encoder_int8.xml"))["int8"] == "no (float)"
    assert no_partial_files(out) == []


def test_export_openvino_checks_its_options_first(tmp_path, capsys):
    assert_one_line_failure(run_in_process(capsys, "export", "openvino", "--output", "/proc/ir"),
                            contains="cannot write")
    assert_one_line_failure(run_in_process(capsys, "export", "openvino", "--output", str(tmp_path), "--calib",
                                           SAMPLE_IMAGES), contains="--calib calibrates INT8")
    assert_one_line_failure(run_in_process(capsys, "export", "openvino", "--output", str(tmp_path), "--precision",
                                           "int8", "--calib", str(tmp_path / "none")), contains="no such folder")
    assert os.listdir(tmp_path) == []


def test_translate_with_openvino_bf16(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["translate", "--backend", "openvino", "--precision", "bf16", "--openvino-dir", str(tmp_path / "ir"),
                 "--input", SAMPLE_IMAGES, "--output", str(out), "--num-styles", "2"]) == 0
    assert "backend openvino-CPU-bf16 (as requested)" in capsys.readouterr().out
    written = [name for name in os.listdir(out) if "_style" in name]
    assert len(written) == 2 * len(os.listdir(SAMPLE_IMAGES))  # each input with each of the 2 styles


def test_video_and_demo_run_on_openvino(tmp_path, capsys):
    clip, stats = tmp_path / "clip.mp4", tmp_path / "stats.json"
    assert main(["video", "--backend", "openvino", "--openvino-dir", str(tmp_path / "ir"), "--input", "demo",
                 "--headless", "--frames", "8", "--output", str(clip), "--stats", str(stats)]) == 0
    assert "backend openvino-CPU-fp32" in capsys.readouterr().out
    assert json.loads(stats.read_text())["frames_out"] == 8
    demo = tmp_path / "demo.mp4"
    assert main(["demo", "--backend", "openvino", "--headless", "--frames", "4", "--output", str(demo)]) == 0
    capture = cv2.VideoCapture(str(demo))
    frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    assert frames == 4
