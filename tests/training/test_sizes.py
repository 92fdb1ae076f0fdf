"""Training sizes the networks cannot take (a crop that is not a multiple of 2^n_downsample, too
many discriminator scales for the crop, test images the sample grids cannot translate) are one
line before any data is read, never a shape error minutes in. The reference is the networks
themselves: a real forward and backward pass on the CPU at each size."""
from __future__ import annotations

import itertools
import os

import pytest
import torch

from munit_fast.cli.main import main
from munit_fast.config import apply_overrides, config_from_dict
from munit_fast.errors import MunitError
from munit_fast.model import AdaINGen, MsImageDis
from munit_fast.model.size import training_size_problem
from munit_fast.training.data import check_training_sizes
from tests.training.conftest import TINY_OVERRIDES, TINY_TRAINING

# small widths: the reference passes below run every size for real
NARROW = ["gen.dim=2", "gen.mlp_dim=4", "gen.style_dim=2", "gen.n_res=1", "dis.dim=2"]


def _trains(config, height: int, width: int) -> bool:
    """What one training step does with the shapes: the generator's reconstruction of a batch,
    compared with the batch, and the discriminator's outputs at every scale, with gradients."""
    torch.manual_seed(0)
    gen, dis = AdaINGen(3, config.gen), MsImageDis(3, config.dis)
    images = torch.randn(config.batch_size, 3, height, width)
    try:
        content, style = gen.encode(images)
        loss = (gen.decode(content, style) - images).abs().mean()
        loss = loss + sum(out.mean() for out in dis(images))
        loss.backward()
        return True
    except (RuntimeError, ValueError):
        return False


CASES = {
    "n_downsample 2, 2 scales": [],
    "n_downsample 3, 3 scales": ["gen.n_downsample=3", "dis.num_scales=3"],
    "4 scales of 4 layers, zero padding": ["dis.num_scales=4", "dis.n_layer=4", "dis.pad_type=zero",
                                           "gen.pad_type=zero"],
    "batch norm, batch of 1": ["dis.norm=bn", "batch_size=1", "dis.num_scales=3"],
    "spectral norm": ["dis.norm=sn", "dis.num_scales=3"],
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_check_agrees_with_real_training_passes(case):
    config = apply_overrides(config_from_dict(dict(TINY_TRAINING)), NARROW + CASES[case])
    agreed = []
    for height, width in itertools.product([8, 12, 16, 33, 64, 128], [16, 30, 128]):
        problem = training_size_problem(config, height, width)
        assert (problem is None) == _trains(config, height, width), (height, width, problem)
        agreed.append(problem is None)
    assert any(agreed) and not all(agreed)  # the sweep crosses the boundary


def test_the_smallest_side_it_names_is_the_smallest_that_trains():
    config = apply_overrides(config_from_dict(dict(TINY_TRAINING)), NARROW + ["dis.num_scales=4"])
    problem = training_size_problem(config, 32, 32)
    assert problem and "too small for the discriminator, which needs at least 57x57 pixels" in problem
    assert _trains(config, 60, 60) and not _trains(config, 56, 56)  # 57 is not a multiple of 4: 60 is next
    config = apply_overrides(config, ["dis.num_scales=1"])
    problem = training_size_problem(config, 8, 8)
    assert problem and "too small for the generator, which needs at least 16x16 pixels" in problem
    assert _trains(config, 16, 16) and not _trains(config, 12, 12)


@pytest.mark.parametrize("overrides, message", [
    (["crop_image_width=33"], "crop_image_height x crop_image_width 32x33 (training crop): gen.n_downsample 2 "
                              "needs sides that are multiples of 4 (the decoder doubles the content code that many "
                              "times, so a width of 33 comes back as 32); use 32 or 36 or lower gen.n_downsample"),
    (["dis.num_scales=6"], "too small for the discriminator, which needs at least 225x225 pixels; raise the size "
                           "or lower dis.num_scales or dis.n_layer"),
    (["dis.norm=bn", "batch_size=1", "dis.num_scales=3"], "or raise batch_size (batch norm needs"),
    (["new_size=34", "crop_image_height=32", "crop_image_width=32"],
     "new_size 34x34 (test images for the sample grids): gen.n_downsample 2 needs sides that are multiples of 4"),
    (["new_size=28"], "crop 32x32 cannot fit images whose shorter side is resized to 28"),
])
def test_bad_sizes_name_the_key_and_the_fix(overrides, message):
    config = apply_overrides(config_from_dict(dict(TINY_TRAINING)), overrides)
    with pytest.raises(MunitError) as error:
        check_training_sizes(config)
    assert message in str(error.value)


def test_train_refuses_before_any_work_and_dry_run_says_so(tmp_path, capsys):
    config = os.path.join(os.path.dirname(__file__), "..", "..", "configs", "demo_edges2handbags_folder.yaml")
    sets = [a for item in TINY_OVERRIDES + ["crop_image_width=30"] for a in ("--set", item)]
    base = ["train", "--config", config, "--output-dir", str(tmp_path / "run"), "--no-progress", *sets]
    assert main(base + ["--dry-run"]) == 2
    assert "a width of 30 comes back as 28" in capsys.readouterr().err
    assert main(base + ["--max-iter", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "use 28 or 32" in err, err
    assert not (tmp_path / "run" / "checkpoints").exists()
