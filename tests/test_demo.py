"""The built-in demo: shipped model, `munit-fast demo`, and the demo-model fallback of commands."""
import argparse
import os

import cv2
import pytest
import torch

import munit_fast
from munit_fast.cli.main import main
from munit_fast.cli.runtime_options import resolve_model
from munit_fast.demo_model import DEMO_CHECKPOINT, DEMO_CONFIG
from munit_fast.errors import MunitError


def test_the_demo_model_ships_in_the_original_format():
    state = torch.load(DEMO_CHECKPOINT, weights_only=True)
    assert set(state) == {"a", "b"}
    assert os.path.getsize(DEMO_CHECKPOINT) < 8 * 2**20  # a few MB
    gen_a, gen_b = munit_fast.load_generators(DEMO_CONFIG, DEMO_CHECKPOINT)
    assert munit_fast.load_config(DEMO_CONFIG).new_size == 128  # translations at 128x128
    with torch.no_grad():
        content = gen_a.encode_content(torch.zeros(1, 3, 128, 128))
        outputs = gen_b.decode(content, torch.randn(4, gen_b.style_dim, generator=torch.Generator().manual_seed(0)))
    assert outputs.shape == (4, 3, 128, 128) and torch.isfinite(outputs).all()


def test_the_demo_walk_passes_through_several_looks():
    """What `munit-fast demo` shows: its default walk (seed, period and clip length as the command's
    defaults, 30 fps, the video's per-frame step limit) on the clip's sketches, classified by the
    shipped mode classifier: all 4 looks, none taking half of the clip."""
    from munit_fast.cli.main import build_parser
    from munit_fast.metrics.classifier import load_classifier
    from munit_fast.runtime.factory import build_translator
    from munit_fast.video.sources import DEFAULT_FPS, demo_frame
    from munit_fast.video.style_modes import WalkStyle

    translator = build_translator(DEMO_CONFIG, DEMO_CHECKPOINT, "a2b", "eager", "cpu")
    demo = build_parser().parse_args(["demo"])
    max_step = build_parser().parse_args(["video", "--input", "demo"]).max_step
    walk = WalkStyle(translator.style_dim, seed=demo.seed, period=demo.period, max_step=max_step)
    times = [index / DEFAULT_FPS for index in range(demo.frames)]
    codes = [walk.codes(t) for t in times][::5]  # every frame steps the walk; every 5th is classified
    size = munit_fast.load_config(DEMO_CONFIG).new_size
    sketches = torch.stack([torch.from_numpy(cv2.resize(demo_frame(t, 256, 256), (size, size),
                                                        interpolation=cv2.INTER_AREA)) for t in times[::5]])
    sketches = sketches.permute(0, 3, 1, 2).float() / 127.5 - 1  # (N, 3, 128, 128); black on white: any channel order
    with torch.no_grad():
        looks = torch.cat([translator.translate(sketches[i:i + 1], codes[i])[:, 0] for i in range(len(codes))])
        modes = load_classifier()[0].probabilities(looks).argmax(dim=1)
    counts = torch.bincount(modes, minlength=4)
    assert (counts > 0).sum() == 4 and counts.max() < 0.5 * len(codes), counts.tolist()


def test_demo_writes_a_video_without_a_display(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--frames", "6", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'demo.mp4'}" in out
    capture = cv2.VideoCapture(str(tmp_path / "demo.mp4"))
    frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    ok, frame = capture.read()
    capture.release()
    assert frames == 6 and ok
    assert frame.shape == (256, 512, 3)  # input | output side by side, 256x256 each


def test_commands_fall_back_to_the_demo_model_and_say_so(tmp_path, capsys):
    image = tmp_path / "sketch.png"
    cv2.imwrite(str(image), cv2.rectangle(cv2.UMat(64, 64, cv2.CV_8UC3, (255, 255, 255)), (16, 16), (48, 48),
                                          (0, 0, 0), 2).get())
    assert main(["translate", "--input", str(image), "--output", str(tmp_path / "out"), "--num-styles", "2"]) == 0
    assert "using the built-in shapes demo model" in capsys.readouterr().err
    assert (tmp_path / "out" / "sketch_style001.png").exists()


@pytest.mark.parametrize("given", [{"config": "x.yaml", "checkpoint": None}, {"config": None, "checkpoint": "g.pt"}])
def test_half_a_model_is_an_error(given):
    missing = "--checkpoint" if given["config"] else "--config"
    with pytest.raises(MunitError, match=f"{missing} is missing"):
        resolve_model(argparse.Namespace(model=None, **given))


def test_the_committed_evaluation_is_the_shipped_models():
    """munit_fast/assets/shapes_demo_eval.json: its first draw (seed 0) is what evaluating the
    shipped model gives today (to fp32 summation order across CPUs: 1e-5), and it states the
    targets of the demo model (CIS >= 0.93 ln 4, >= 3.9 modes per input, confidence >= 0.98)."""
    import json
    import math

    from munit_fast.cli.eval import load_inputs
    from munit_fast.demo_model import ASSETS
    from munit_fast.metrics.classifier import load_classifier
    from munit_fast.metrics.evaluate import evaluate_translations
    from munit_fast.runtime.factory import build_translator

    with open(os.path.join(ASSETS, "shapes_demo_eval.json"), encoding="utf-8") as handle:
        committed = json.load(handle)
    assert committed["seeds"] == list(range(committed["repeats"])) and committed["repeats"] >= 20
    config = munit_fast.load_config(DEMO_CONFIG)
    translator = build_translator(DEMO_CONFIG, DEMO_CHECKPOINT, "a2b", "eager", "cpu")
    inputs = load_inputs(config, "a", None, committed["num_inputs"])
    fresh = evaluate_translations(translator, inputs, committed["num_samples"], 0, load_classifier()[0])
    assert fresh["cis_kl"] == pytest.approx(committed["cis_kl_per_draw"][0], abs=1e-5)
    assert committed["cis_kl"] >= 0.93 * math.log(4)
    assert committed["coverage_mean"] >= 3.9 and committed["confidence"] >= 0.98
