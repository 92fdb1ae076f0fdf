"""What a training run needs from this machine before its first step, checked without building a
network or decoding an image: its data folders or lists, enough images for a batch, and the VGG
weights file. (`check_training_sizes` checks what the config alone decides.)"""
from __future__ import annotations

from munit_fast.config import MunitConfig

from .data import PairedBatches, domain_dataset
from .vgg import configured_weights_file


def check_local_inputs(config: MunitConfig, world_size: int = 1) -> None:
    """Raise the one-line error the run would raise for its data or VGG weights, if any."""
    data = {(d, train): domain_dataset(config, d, train) for d in "ab" for train in (True, False)}
    PairedBatches(data["a", True], data["b", True], config.batch_size, 0, seed=0, world_size=world_size)
    if config.vgg_w > 0:
        configured_weights_file(config.vgg_model_path)
