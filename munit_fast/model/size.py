"""The size of a config's networks and the image sizes they take, known before any weight is allocated."""
from __future__ import annotations

import dataclasses
from typing import Optional

import torch

from munit_fast.config import MunitConfig
from munit_fast.memory import check_fits

from .discriminator import MsImageDis
from .generator import AdaINGen


def generator_parameters(config: MunitConfig, input_dim: int = 3) -> int:
    """Parameters of one generator, counted on the meta device (nothing is allocated)."""
    with torch.device("meta"):
        return sum(p.numel() for p in AdaINGen(input_dim, config.gen).parameters())


def check_generators_fit(config: MunitConfig, copies: int = 2, device: str = "cpu") -> None:
    """One line naming the model options when ``copies`` fp32 generators cannot be allocated
    (e.g. gen.n_downsample 10 doubles the channels ten times)."""
    count = generator_parameters(config, max(config.input_dim_a, config.input_dim_b))
    check_fits(4 * count * copies, f"the generators of this config ({count / 1e6:.0f} M parameters each)",
               "lower gen.dim, gen.n_downsample, gen.n_res or gen.mlp_dim", device)


def _runs(network, batch: int, channels: int, height: int, width: int) -> bool:
    """Whether ``network`` (on the meta device) takes a (batch, channels, height, width) input and,
    for a generator, gives back an image of the same size."""
    images = torch.empty(batch, channels, height, width, device="meta")
    try:
        if isinstance(network, AdaINGen):
            return network.decode(*network.encode(images)).shape == images.shape
        network(images)
        return True
    except (RuntimeError, ValueError):
        return False


def _smallest_side(network, batch: int, channels: int, step: int, limit: int = 1 << 16) -> Optional[int]:
    """The smallest multiple of ``step`` that ``network`` takes as both sides (larger ones pass too:
    every layer's output size grows with its input's): doubling, then bisecting."""
    failed, passed = 0, 1  # in units of step
    while not _runs(network, batch, channels, passed * step, passed * step):
        failed, passed = passed, passed * 2
        if passed * step > limit:
            return None
    while passed - failed > 1:
        middle = (failed + passed) // 2
        if _runs(network, batch, channels, middle * step, middle * step):
            passed = middle
        else:
            failed = middle
    return passed * step


def _nearest_multiples(side: int, multiple: int) -> str:
    lower = side // multiple * multiple
    return f"{lower} or {lower + multiple}" if lower else str(multiple)


def training_size_problem(config: MunitConfig, height: int, width: int) -> Optional[str]:
    """None when training images of height x width go through both networks as training runs
    them (the generator back to the same size, the discriminator at every scale, a batch of
    ``batch_size`` in train mode); otherwise what they need, in words with the options to change."""
    multiple = 2 ** config.gen.n_downsample
    for name, side in (("height", height), ("width", width)):
        if side % multiple:
            back = (f"so a {name} of {side} comes back as {side // multiple * multiple}" if side > multiple
                    else f"and a {name} of {side} is below one")
            return (f"gen.n_downsample {config.gen.n_downsample} needs sides that are multiples of {multiple} (the "
                    f"decoder doubles the content code that many times, {back}); use "
                    f"{_nearest_multiples(side, multiple)} or lower gen.n_downsample")
    channels = max(config.input_dim_a, config.input_dim_b)
    # spectral norm only rescales weights (and its power iteration does not run on meta tensors)
    dis_config = dataclasses.replace(config.dis, norm="none") if config.dis.norm == "sn" else config.dis
    with torch.device("meta"):
        generator, discriminator = AdaINGen(channels, config.gen), MsImageDis(channels, dis_config)
    dis_options = "lower dis.num_scales or dis.n_layer"
    if config.dis.norm == "bn":
        dis_options += ", or raise batch_size (batch norm needs more than one value per channel)"
    for network, what, options in ((generator, "the generator", "lower gen.n_downsample"),
                                   (discriminator, "the discriminator", dis_options)):
        if not _runs(network, config.batch_size, channels, height, width):
            side = _smallest_side(network, config.batch_size, channels, multiple if network is generator else 1)
            needs = f"at least {side}x{side} pixels" if side else "larger images than any this check tries"
            return f"too small for {what}, which needs {needs}; raise the size or {options}"
    return None
