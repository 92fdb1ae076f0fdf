"""Video test fixtures: the tiny reference model and a generated clip on disk."""
from __future__ import annotations

import pytest
import torch
from video_helpers import REFERENCE_CHECKPOINT, REFERENCE_CONFIG, write_clip


@pytest.fixture(scope="session")
def clip_path(tmp_path_factory):
    return write_clip(str(tmp_path_factory.mktemp("clip") / "clip.avi"))


@pytest.fixture(scope="session")
def reference_translator():
    from munit_fast.runtime.factory import build_translator

    return build_translator(REFERENCE_CONFIG, REFERENCE_CHECKPOINT, "a2b", "eager", "cpu")


@pytest.fixture(autouse=True)
def _small_torch():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny model: more threads only add contention with the pipeline's own
    yield
    torch.set_num_threads(threads)
