"""Shared fixtures: the original implementation's reference vectors and a tiny model."""
from __future__ import annotations

import os

# Without a GPU, Triton kernels run in Triton's CPU interpreter; it must be chosen before Triton
# is first imported. On a CUDA machine set TRITON_INTERPRET=0 to test the compiled kernels.
if "TRITON_INTERPRET" not in os.environ:
    import torch as _torch

    os.environ["TRITON_INTERPRET"] = "0" if _torch.cuda.is_available() else "1"

import numpy as np
import pytest
import torch

import munit_fast
from munit_fast.checkpoint import build_generators
from munit_fast.config import config_from_dict

DATA = os.path.join(os.path.dirname(__file__), "data")
REFERENCE = os.path.join(DATA, "official_munit")
SAMPLE_IMAGES = os.path.join(DATA, "images")

TINY_MODEL = {  # a 2-res-block, dim-8 model: every layer type, milliseconds per call
    "gen": {"dim": 8, "mlp_dim": 32, "style_dim": 8, "activ": "relu", "n_downsample": 2, "n_res": 2,
            "pad_type": "reflect"},
    "dis": {"dim": 8, "norm": "none", "activ": "lrelu", "n_layer": 3, "gan_type": "lsgan", "num_scales": 2,
            "pad_type": "reflect"},
    "new_size": 64, "crop_image_height": 64, "crop_image_width": 64,
}


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)
    yield


@pytest.fixture(scope="session")
def reference_config():
    return munit_fast.load_config(os.path.join(REFERENCE, "config.yaml"))


@pytest.fixture(scope="session")
def reference_checkpoint():
    return os.path.join(REFERENCE, "gen_00000001.pt")


@pytest.fixture(scope="session")
def reference_tensors():
    with np.load(os.path.join(REFERENCE, "reference.npz")) as data:
        return {key: torch.from_numpy(data[key]) for key in data.files}


@pytest.fixture(scope="session")
def reference_generators(reference_config, reference_checkpoint):
    return munit_fast.load_generators(reference_config, reference_checkpoint)


@pytest.fixture
def tiny_config():
    return config_from_dict(dict(TINY_MODEL))


@pytest.fixture
def tiny_generators(tiny_config):
    gen_a, gen_b = build_generators(tiny_config)
    return gen_a.eval(), gen_b.eval()
