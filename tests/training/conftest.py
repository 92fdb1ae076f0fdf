"""A tiny, fast training setup on a few edges2handbags images (tests/data/edges2handbags_demo:
downscaled copies of images of the original's demo_edges2handbags dataset)."""
from __future__ import annotations

import os

import pytest
import torch

from munit_fast.config import config_from_dict
from tests.conftest import DATA, TINY_MODEL

DEMO = os.path.join(DATA, "edges2handbags_demo")  # trainA/trainB: 6 images each, testA/testB: 2

# 32x32 crops keep one iteration of the tiny model at tens of milliseconds on a laptop core
TINY_TRAINING = dict(TINY_MODEL, new_size=32, crop_image_height=32, crop_image_width=32, data_root=DEMO,
                     num_workers=0, display_size=2, log_iter=1, image_save_iter=1000, image_display_iter=1000,
                     snapshot_save_iter=1000)

TINY_OVERRIDES = [f"{k}={v}" for k, v in {
    "gen.dim": 8, "gen.mlp_dim": 32, "gen.n_res": 2, "dis.dim": 8, "dis.n_layer": 3, "dis.num_scales": 2,
    "new_size": 32, "crop_image_height": 32, "crop_image_width": 32, "num_workers": 0, "display_size": 2,
    "data_root": DEMO,
}.items()]


@pytest.fixture(autouse=True)
def _one_thread():
    """Training tests run single-threaded: these tiny convolutions gain nothing from threads, and
    on a shared CI core oversubscribed OpenMP threads make backward passes 10-30x slower."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def training_config():
    return config_from_dict(dict(TINY_TRAINING))
