"""--seed-compat original: the style codes of the original's test.py and test_batch.py.

The restatement below lists, from networks.py and trainer.py, every random draw that
``MUNIT_Trainer(config)`` makes, in order, as plain torch.nn layers and init calls; the codes the
scripts then draw must equal munit-fast's.
"""
from __future__ import annotations

import math
import os

import numpy as np
import pytest
import torch
import torch.nn as nn
from torch.nn import init

from munit_fast.cli.main import main
from munit_fast.config import apply_overrides, load_config
from munit_fast.runtime.styles import original_batch_style_codes, original_style_codes
from tests.conftest import REFERENCE, SAMPLE_IMAGES

CONFIGS = os.path.join(os.path.dirname(__file__), "..", "configs")


def _conv_block(cin, cout, k, norm, layers):
    """Conv2dBlock.__init__: norm (LayerNorm draws its gamma) before the conv; sn wraps the conv
    and then draws u and v."""
    if norm == "ln":
        torch.Tensor(cout).uniform_()
    conv = nn.Conv2d(cin, cout, k)
    if norm == "sn":
        height, width = conv.weight.shape[0], conv.weight[0].numel()
        conv.weight.data.new(height).normal_(0, 1)
        conv.weight.data.new(width).normal_(0, 1)
    else:
        layers.append(conv)


def _gen(input_dim, g, layers):
    dim = g.dim
    _conv_block(input_dim, dim, 7, "none", layers)  # StyleEncoder(4, ...)
    d = dim
    for _ in range(2):
        _conv_block(d, 2 * d, 4, "none", layers)
        d *= 2
    for _ in range(2):
        _conv_block(d, d, 4, "none", layers)
    layers.append(nn.Conv2d(d, g.style_dim, 1))
    _conv_block(input_dim, dim, 7, "in", layers)  # ContentEncoder
    d = dim
    for _ in range(g.n_downsample):
        _conv_block(d, 2 * d, 4, "in", layers)
        d *= 2
    for _ in range(2 * g.n_res):
        _conv_block(d, d, 3, "in", layers)
    adain = 2 * g.n_res * 2 * d
    for _ in range(2 * g.n_res):  # Decoder: AdaIN residual blocks
        _conv_block(d, d, 3, "adain", layers)
    for _ in range(g.n_downsample):
        _conv_block(d, d // 2, 5, "ln", layers)
        d //= 2
    _conv_block(d, input_dim, 7, "none", layers)
    for cin, cout in ((g.style_dim, g.mlp_dim), (g.mlp_dim, g.mlp_dim), (g.mlp_dim, adain)):  # MLP
        layers.append(nn.Linear(cin, cout))


def _dis(input_dim, d_cfg, layers):
    for _ in range(d_cfg.num_scales):
        dim = d_cfg.dim
        _conv_block(input_dim, dim, 4, "none", layers)
        for _ in range(d_cfg.n_layer - 1):
            _conv_block(dim, 2 * dim, 4, d_cfg.norm, layers)
            dim *= 2
        layers.append(nn.Conv2d(dim, 1, 1))


def restated_test_py_codes(config, seed, num_style):
    torch.manual_seed(seed)
    gen_a, gen_b, dis_a, dis_b = [], [], [], []
    _gen(config.input_dim_a, config.gen, gen_a)
    _gen(config.input_dim_b, config.gen, gen_b)
    _dis(config.input_dim_a, config.dis, dis_a)
    _dis(config.input_dim_b, config.dis, dis_b)
    torch.randn(config.display_size, config.gen.style_dim, 1, 1)
    torch.randn(config.display_size, config.gen.style_dim, 1, 1)
    for layer in gen_a + gen_b + dis_a + dis_b:  # self.apply(weights_init(init))
        if config.init == "kaiming":
            init.kaiming_normal_(layer.weight.data, a=0, mode="fan_in")
        elif config.init == "gaussian":
            init.normal_(layer.weight.data, 0.0, 0.02)
        elif config.init == "xavier":
            init.xavier_normal_(layer.weight.data, gain=math.sqrt(2))
        elif config.init == "orthogonal":
            init.orthogonal_(layer.weight.data, gain=math.sqrt(2))
    for layer in dis_a + dis_b:
        init.normal_(layer.weight.data, 0.0, 0.02)
    if config.vgg_w > 0:  # load_vgg16 builds a Vgg16 (13 default-initialised convs)
        cin = 3
        for cout in [64] * 2 + [128] * 2 + [256] * 3 + [512] * 6:
            nn.Conv2d(cin, cout, 3, 1, 1)
            cin = cout
    return torch.randn(num_style, config.gen.style_dim, 1, 1)


CASES = [
    ("edges2shoes_folder.yaml", []),
    ("synthia2cityscape_folder.yaml", []),  # vgg_w 1
    ("edges2handbags_folder.yaml", ["dis.norm=sn", "init=orthogonal", "gen.activ=prelu", "display_size=3"]),
    ("summer2winter_yosemite256_folder.yaml", ["dis.norm=ln", "init=gaussian", "gen.n_downsample=3",
                                               "input_dim_b=1"]),
]


@pytest.mark.parametrize("name, overrides", CASES, ids=[c[0].split("_")[0] + str(len(c[1])) for c in CASES])
def test_test_py_codes_equal_the_restated_draws(name, overrides):
    config = apply_overrides(load_config(os.path.join(CONFIGS, name)), overrides)
    expected = restated_test_py_codes(config, 10, 4).reshape(4, -1)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    ours = original_style_codes(config, 10, 4)
    assert torch.equal(torch.get_rng_state(), before)  # the global generator is left alone
    assert torch.equal(ours, expected)  # the same draws in the same order: bit-identical


def test_test_batch_codes_follow_the_loop_order():
    config = load_config(os.path.join(CONFIGS, "edges2shoes_folder.yaml"))
    fixed = restated_test_py_codes(config, 1, 3).reshape(3, -1)
    torch.empty((), dtype=torch.int64).random_()  # the DataLoader iterator's base seed
    per_image = [torch.randn(3, 8, 1, 1).reshape(3, -1) for _ in range(2)]
    synced = original_batch_style_codes(config, 1, 3, 2, synchronized=True)
    fresh = original_batch_style_codes(config, 1, 3, 2, synchronized=False)
    assert all(torch.equal(codes, fixed) for codes in synced)
    assert all(torch.equal(a, b) for a, b in zip(fresh, per_image))


CONFIG = os.path.join(REFERENCE, "config.yaml")
CHECKPOINT = os.path.join(REFERENCE, "gen_00000001.pt")


def test_translate_seed_compat_original_writes_the_original_names(tmp_path):
    image = os.path.join(SAMPLE_IMAGES, "edges2shoes_edge.jpg")
    out = tmp_path / "one"
    assert main(["translate", "--config", CONFIG, "--checkpoint", CHECKPOINT, "--input", image, "--output", str(out),
                 "--seed-compat", "original", "--naming", "original"]) == 0
    # test.py's defaults: 10 styles, seed 10; output000.jpg ... and input.jpg
    assert sorted(os.listdir(out)) == ["input.jpg"] + [f"output{k:03d}.jpg" for k in range(10)] + ["styles.npy"]
    np.testing.assert_array_equal(np.load(out / "styles.npy"),
                                  restated_test_py_codes(load_config(CONFIG), 10, 10).reshape(10, -1).numpy())


def test_translate_folder_as_test_batch(tmp_path):
    out = tmp_path / "out"
    assert main(["translate", "--config", CONFIG, "--checkpoint", CHECKPOINT, "--input", SAMPLE_IMAGES,
                 "--output", str(out), "--seed-compat", "original", "--naming", "original", "--num-styles", "2",
                 "--output-only"]) == 0
    names = sorted(os.listdir(SAMPLE_IMAGES))
    for k in range(2):
        assert sorted(os.listdir(f"{out}_{k:02d}")) == names  # test_batch's <output>_%02d/<name>
    # --output-only: no input copies; fresh codes per input (test_batch's default) saved per input
    assert sorted(os.listdir(out)) == sorted(os.path.splitext(n)[0] + "_styles.npy" for n in names)
    config = load_config(CONFIG)
    expected = original_batch_style_codes(config, 1, 2, len(names), synchronized=False)
    for name, codes in zip(names, expected):
        np.testing.assert_array_equal(np.load(out / (os.path.splitext(name)[0] + "_styles.npy")), codes.numpy())


def test_synchronized_shares_and_no_synchronized_draws_per_input(tmp_path):
    base = ["translate", "--config", CONFIG, "--checkpoint", CHECKPOINT, "--input", SAMPLE_IMAGES,
            "--num-styles", "2", "--output-only"]
    assert main(base + ["--output", str(tmp_path / "shared")]) == 0
    assert main(base + ["--output", str(tmp_path / "fresh"), "--no-synchronized"]) == 0
    assert os.path.exists(tmp_path / "shared" / "styles.npy")
    per_input = sorted(p for p in os.listdir(tmp_path / "fresh") if p.endswith("_styles.npy"))
    codes = [np.load(tmp_path / "fresh" / p) for p in per_input]
    assert len(codes) == 4 and not np.array_equal(codes[0], codes[1])
    assert not any(p.endswith("_grid.jpg") for p in os.listdir(tmp_path / "shared"))  # --output-only
