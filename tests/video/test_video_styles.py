"""Style modes: walk moves smoothly with a bounded step, random keeps one code, cycle and grid
switch as promised, and the pipeline decodes each frame with the mode's codes in order."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from video_helpers import ScriptedTranslator

from munit_fast.errors import MunitError
from munit_fast.video.style_modes import RandomStyle, StyleController, WalkStyle, limit_step, parse_style_mode, slerp

STYLE_DIM = 8
FPS = 30.0


def walk_codes(period: float, max_step: float, frames: int, fps: float = FPS) -> torch.Tensor:
    mode = WalkStyle(STYLE_DIM, seed=3, period=period, max_step=max_step)
    return torch.cat([mode.codes(i / fps) for i in range(frames)])  # (frames, style_dim)


def test_slerp_endpoints_and_norm():
    a, b = torch.randn(STYLE_DIM), torch.randn(STYLE_DIM)
    torch.testing.assert_close(slerp(a, b, 0.0), a, atol=1e-6, rtol=0)
    torch.testing.assert_close(slerp(a, b, 1.0), b, atol=1e-6, rtol=0)
    unit_a, unit_b = a / a.norm(), b / b.norm()
    # between unit vectors slerp stays on the sphere (linear interpolation would shrink the code)
    assert abs(float(slerp(unit_a, unit_b, 0.5).norm()) - 1.0) < 1e-5


def test_walk_step_is_bounded_and_the_style_drifts():
    max_step = 0.05
    codes = walk_codes(period=0.5, max_step=max_step, frames=90)
    steps = (codes[1:] - codes[:-1]).norm(dim=1)
    assert float(steps.max()) <= max_step + 1e-6
    assert float((codes[-1] - codes[0]).norm()) > 1.0  # it does move: 6 key codes in 3 s


def test_walk_passes_through_its_keys_when_the_step_allows():
    period = 0.5
    codes = walk_codes(period=period, max_step=100.0, frames=31)
    mode = WalkStyle(STYLE_DIM, seed=3, period=period, max_step=100.0)
    torch.testing.assert_close(codes[15], mode._key(1), atol=1e-5, rtol=0)  # frame 15 = 0.5 s = key 1
    # smoothstep easing: consecutive steps are small near a key and largest between keys
    steps = (codes[1:] - codes[:-1]).norm(dim=1)
    assert float(steps[14]) < float(steps[7])


def test_walk_with_dropped_frames_still_moves_at_most_max_step():
    mode = WalkStyle(STYLE_DIM, seed=0, period=1.0, max_step=0.1)
    first = mode.codes(0.0)
    after_a_gap = mode.codes(0.5)  # half a period later, as when a live source drops frames
    assert abs(float((after_a_gap - first).norm()) - 0.1) < 1e-5


def test_limit_step():
    previous, target = torch.zeros(2), torch.tensor([3.0, 4.0])
    torch.testing.assert_close(limit_step(previous, target, 1.0), torch.tensor([0.6, 0.8]))
    torch.testing.assert_close(limit_step(previous, target, 10.0), target)


def test_random_keeps_one_code_until_asked_for_another():
    mode = RandomStyle(STYLE_DIM, seed=5)
    codes = torch.cat([mode.codes(i / FPS) for i in range(20)])
    assert torch.equal(codes, codes[:1].expand_as(codes))
    mode.next_style()
    assert not torch.equal(mode.codes(1.0), codes[:1])


def test_cycle_switches_every_period(tmp_path):
    bank = np.arange(3 * STYLE_DIM, dtype=np.float32).reshape(3, STYLE_DIM)
    np.save(tmp_path / "bank.npy", bank)
    mode = parse_style_mode(f"cycle:{tmp_path / 'bank.npy'}", STYLE_DIM, period=2.0)
    picked = [int(mode.codes(t)[0, 0]) // STYLE_DIM for t in (0.0, 1.9, 2.0, 4.5, 6.1)]
    assert picked == [0, 0, 1, 2, 0]


def test_grid_gives_k_codes_and_the_g_key_toggles_a_grid():
    grid = parse_style_mode("grid:3", STYLE_DIM)
    assert grid.codes(0.0).shape == (3, STYLE_DIM)
    controller = StyleController(parse_style_mode("random", STYLE_DIM), STYLE_DIM, grid_size=4)
    assert controller.codes(0.0).shape == (1, STYLE_DIM)
    controller.toggle_grid()
    codes = controller.codes(0.0)
    assert codes.shape == (4, STYLE_DIM) and torch.equal(codes[0], controller.mode.codes(0.0)[0])
    controller.toggle_grid()
    assert controller.codes(0.0).shape == (1, STYLE_DIM)


@pytest.mark.parametrize("spec", ["rainbow", "grid:0", "grid:x", "walk:3", "image:"])
def test_bad_style_spec_names_the_choices(spec):
    with pytest.raises(MunitError, match="--style"):
        parse_style_mode(spec, STYLE_DIM)


def test_pipeline_decodes_walk_frames_with_bounded_steps():
    from munit_fast.video.pipeline import VideoPipeline
    from munit_fast.video.preprocess import FramePreprocessor
    from munit_fast.video.sources import DemoSource

    translator = ScriptedTranslator()
    controller = StyleController(WalkStyle(STYLE_DIM, seed=1, period=0.2, max_step=0.08), STYLE_DIM)
    frames = []
    pipeline = VideoPipeline(DemoSource(frames=24, width=32, height=32), translator, controller,
                             FramePreprocessor(3, (32, 32), "letterbox"), [frames.append])
    pipeline.run()
    codes = torch.cat(translator.codes[1:])  # the first decode is the pipeline's warm-up
    steps = (codes[1:] - codes[:-1]).norm(dim=1)
    assert len(frames) == 24 and codes.shape == (24, STYLE_DIM)
    assert float(steps.max()) <= 0.08 + 1e-6 and float(steps.min()) > 0.0
