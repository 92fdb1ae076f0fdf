"""Original-format YAML configs: shipped configs load, mistakes are named by key."""
import glob
import os

import pytest

import munit_fast
from munit_fast.config import apply_overrides, config_from_dict, dump_config
from munit_fast.errors import MunitError

CONFIGS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "configs")
ORIGINAL = ["edges2shoes_folder", "edges2handbags_folder", "demo_edges2handbags_folder", "demo_edges2handbags_list",
            "summer2winter_yosemite256_folder", "synthia2cityscape_folder"]
# The logger options of the original's current master (NVlabs/MUNIT configs/): display_size changes
# the random draws before the weight init, so older copies initialise differently for one seed.
MASTER_LOGGER_OPTIONS = {  # image_save_iter, image_display_iter, display_size, snapshot_save_iter, log_iter
    "edges2shoes_folder": (10000, 500, 16, 10000, 10),
    "edges2handbags_folder": (10000, 500, 16, 10000, 10),
    "demo_edges2handbags_folder": (1000, 100, 8, 10000, 1),
    "demo_edges2handbags_list": (1000, 100, 8, 10000, 1),
    "summer2winter_yosemite256_folder": (10000, 100, 16, 10000, 1),
    "synthia2cityscape_folder": (10000, 500, 16, 10000, 10),
}


@pytest.mark.parametrize("name", ORIGINAL)
def test_original_configs_ship_and_load(name):
    config = munit_fast.load_config(os.path.join(CONFIGS, f"{name}.yaml"))
    assert (config.gen.dim, config.gen.n_res, config.gen.style_dim, config.dis.num_scales) == (64, 4, 8, 3)


@pytest.mark.parametrize("name", ORIGINAL)
def test_shipped_configs_are_the_original_masters(name):
    c = munit_fast.load_config(os.path.join(CONFIGS, f"{name}.yaml"))
    assert (c.image_save_iter, c.image_display_iter, c.display_size, c.snapshot_save_iter,
            c.log_iter) == MASTER_LOGGER_OPTIONS[name]


def test_dataset_specific_values():
    load = lambda n: munit_fast.load_config(os.path.join(CONFIGS, f"{n}.yaml"))  # noqa: E731
    synthia = load("synthia2cityscape_folder")
    assert (synthia.vgg_w, synthia.recon_x_cyc_w, synthia.new_size, synthia.crop_image_width) == (1.0, 10.0, 512, 512)
    assert load("summer2winter_yosemite256_folder").recon_x_cyc_w == 10.0
    assert load("edges2shoes_folder").data_root == "./datasets/edges2shoes/"


def test_every_shipped_config_loads():
    for path in glob.glob(os.path.join(CONFIGS, "*.yaml")):
        munit_fast.load_config(path)


@pytest.mark.parametrize("data, message", [
    ({"learning_rate": 1e-4}, "unknown config key learning_rate"),
    ({"gen": {"dims": 64}}, "unknown config key gen.dims"),
    ({"gen": {"n_res": "four"}}, "gen.n_res: expected an integer"),
    ({"gen": {"n_res": -1}}, "gen.n_res: expected a value >= 0"),
    ({"gen": {"activ": "swish"}}, "gen.activ: expected one of"),
    ({"dis": {"gan_type": "wgan"}}, "dis.gan_type: expected one of lsgan/nsgan"),
    ({"input_dim_a": 2}, "input_dim_a: expected 1 .grayscale. or 3"),
    ({"lr": "fast"}, "lr: expected a number"),
    ({"beta1": 1.5}, "beta1: expected a value in"),
    ({"gen_ema": 1.0}, r"gen_ema: expected a value in \[0, 1\), got 1.0"),
    ({"gen": 5}, "gen: expected a mapping"),
    ({"new_size": None}, "new_size: missing"),
])
def test_mistakes_are_named_by_key(data, message):
    with pytest.raises(MunitError, match=message):
        config_from_dict(data)


def test_load_config_errors_name_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("gen:\n  dim: 64\n  colour: red\n")
    with pytest.raises(MunitError, match=r"bad\.yaml: unknown config key gen\.colour"):
        munit_fast.load_config(path)
    path.write_text("gen: [unclosed\n")
    with pytest.raises(MunitError, match="not valid YAML at line"):
        munit_fast.load_config(path)
    with pytest.raises(MunitError, match="config file not found"):
        munit_fast.load_config(tmp_path / "missing.yaml")


def test_scientific_notation_and_overrides_and_dump_round_trip():
    config = config_from_dict({"lr": "1e-4", "weight_decay": 1e-4})
    assert config.lr == 1e-4
    changed = apply_overrides(config, ["gen.dim=16", "lr=2e-4", "dis.gan_type=nsgan"])
    assert (changed.gen.dim, changed.lr, changed.dis.gan_type) == (16, 2e-4, "nsgan")
    import yaml

    assert config_from_dict(yaml.safe_load(dump_config(changed))) == changed
    with pytest.raises(MunitError, match="--set gen.nope"):
        apply_overrides(config, ["gen.nope.x=1"])
    with pytest.raises(MunitError, match="unknown config key gen.depth"):
        apply_overrides(config, ["gen.depth=3"])


def test_new_size_is_read_first_as_the_original_does():
    # utils.get_all_data_loaders and test.py: new_size when present, else new_size_a / new_size_b
    only_domains = config_from_dict({"new_size_a": 128, "new_size_b": 300})
    assert (only_domains.size_for("a"), only_domains.size_for("b")) == (128, 300)
    with pytest.warns(UserWarning, match="new_size_a/new_size_b are ignored"):
        both = config_from_dict({"new_size": 256, "new_size_a": 128, "new_size_b": 300})
    assert (both.size_for("a"), both.size_for("b")) == (256, 256)
    assert config_from_dict({}).size_for("b") == 256
    with pytest.raises(MunitError, match="new_size"):
        config_from_dict({"new_size_a": 128})
