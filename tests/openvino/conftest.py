"""Fixtures of the openvino backend's tests: a cache folder of their own, the full-size generator
(random kaiming init, saved as a checkpoint) and the shipped demo model's INT8 IR, built once."""
from __future__ import annotations

import importlib.util
import os

import pytest
import torch

from munit_fast.checkpoint import build_generators, save_generators
from munit_fast.config import load_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FULL_SIZE_CONFIG = os.path.join(ROOT, "configs", "edges2shoes_folder.yaml")
MISSING = "the openvino backend's tests need openvino and nncf: pip install 'munit-fast[openvino]'"


def pytest_collection_modifyitems(config, items):
    if all(importlib.util.find_spec(name) for name in ("openvino", "nncf")):
        return
    skip = pytest.mark.skip(reason=MISSING)
    for item in items:
        if os.path.dirname(str(item.fspath)) == os.path.dirname(__file__):
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def openvino_cache(tmp_path_factory):
    """MUNIT_FAST_CACHE for the session: the IR and graphs these tests build stay out of ~/.cache."""
    folder = tmp_path_factory.mktemp("munit-fast-cache")
    previous = os.environ.get("MUNIT_FAST_CACHE")
    os.environ["MUNIT_FAST_CACHE"] = str(folder)
    yield str(folder)
    if previous is None:
        os.environ.pop("MUNIT_FAST_CACHE", None)
    else:
        os.environ["MUNIT_FAST_CACHE"] = previous


@pytest.fixture(scope="session")
def full_size_model(tmp_path_factory):
    """(config, checkpoint) of the full-size generator (dim 64, 4 res blocks) with random kaiming weights."""
    config = load_config(FULL_SIZE_CONFIG)
    torch.manual_seed(0)
    gen_a, gen_b = build_generators(config)
    checkpoint = str(tmp_path_factory.mktemp("full-size") / "gen_00000001.pt")
    save_generators(gen_a.eval(), gen_b.eval(), checkpoint)
    return config, checkpoint


@pytest.fixture(scope="session")
def demo_int8_dir(tmp_path_factory):
    """A folder with the demo model's INT8 IR (the default calibration: 32 of the domain's test images)."""
    from munit_fast.demo_model import DEMO_CHECKPOINT, DEMO_CONFIG
    from munit_fast.export.openvino_cache import build_ir

    folder = str(tmp_path_factory.mktemp("demo-int8"))
    build_ir(load_config(DEMO_CONFIG), DEMO_CHECKPOINT, "a2b", "int8", folder)
    return folder
