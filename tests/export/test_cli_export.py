"""``munit-fast export onnx|trt|check`` and ``translate --backend onnx`` end to end (tiny reference model)."""
from __future__ import annotations

import os

import onnx
import pytest

from munit_fast.cli.main import main
from munit_fast.export import graph_report
from tests.conftest import REFERENCE, SAMPLE_IMAGES

CONFIG = os.path.join(REFERENCE, "config.yaml")
CHECKPOINT = os.path.join(REFERENCE, "gen_00000001.pt")


def test_export_onnx_then_check(tmp_path, capsys):
    out = str(tmp_path / "graphs")
    assert main(["export", "onnx", "--config", CONFIG, "--checkpoint", CHECKPOINT, "--direction", "b2a",
                 "--output", out, "--opset", "18", "--parts", "decoder,content_encoder"]) == 0
    assert sorted(os.listdir(out)) == ["munit_b2a_content_encoder_fp32.onnx", "munit_b2a_decoder_fp32.onnx"]
    assert graph_report(onnx.load(os.path.join(out, "munit_b2a_decoder_fp32.onnx"))).opset == 18
    capsys.readouterr()
    assert main(["export", "check", "--onnx", os.path.join(out, "munit_b2a_decoder_fp32.onnx"), "--config", CONFIG,
                 "--checkpoint", CHECKPOINT, "--size", "64x96", "--styles", "2", "--min-psnr", "80"]) == 0
    line = capsys.readouterr().out
    assert "decoder (fp32) onnxruntime" in line and "PSNR" in line and "64x96, 2 style(s)" in line


def test_check_fails_below_min_psnr(tmp_path, capsys):
    out = str(tmp_path / "graphs")
    assert main(["export", "onnx", "--config", CONFIG, "--checkpoint", CHECKPOINT, "--output", out, "--fp16",
                 "--parts", "translate"]) == 0
    graph = os.path.join(out, "munit_a2b_translate_fp16.onnx")
    assert main(["export", "check", "--onnx", graph, "--config", CONFIG, "--checkpoint", CHECKPOINT,
                 "--min-psnr", "200"]) == 1  # fp16 is close (> 50 dB), not exact
    assert "below --min-psnr" in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["export", "onnx", "--config", CONFIG, "--checkpoint", CHECKPOINT, "--output", "x", "--parts", "decoder,vae"],
     "--parts 'decoder,vae': unknown ['vae']"),
    (["export", "check", "--onnx", "missing.onnx", "--config", CONFIG, "--checkpoint", CHECKPOINT],
     "--onnx missing.onnx: no such file"),
    (["export", "trt", "--onnx", "g.onnx", "--output", "g.engine", "--shapes", "1x3x256"], "not a shape like"),
    (["export", "trt", "--onnx", "g.onnx", "--output", "g.engine", "--calib", "frames"], "--calib is for --int8"),
])
def test_user_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_translate_with_onnx_backend(tmp_path, capsys):
    out = str(tmp_path / "out")
    assert main(["translate", "--config", CONFIG, "--checkpoint", CHECKPOINT, "--backend", "onnx",
                 "--onnx-dir", str(tmp_path / "graphs"), "--input", os.path.join(SAMPLE_IMAGES, "edges2shoes_edge.jpg"),
                 "--output", out, "--num-styles", "2"]) == 0
    assert "onnx-cpu-fp32" in capsys.readouterr().out
    assert sorted(f for f in os.listdir(out) if f.endswith(".png")) == ["edges2shoes_edge_style000.png",
                                                                        "edges2shoes_edge_style001.png"]
