"""Build a Translator for one direction of a config + checkpoint, on the backend a user names."""
from __future__ import annotations

from munit_fast.checkpoint import load_generators
from munit_fast.config import MunitConfig, load_config
from munit_fast.errors import MunitError

from .backends import EagerBackend
from .translator import Translator

DIRECTIONS = ("a2b", "b2a")
EAGER_BACKENDS = ("eager", "triton", "compile")


def build_translator(config, checkpoint, direction: str = "a2b", backend: str = "eager", device: str = "cpu",
                     precision: str = "fp32", channels_last: bool = False) -> Translator:
    """config: MunitConfig or YAML path; checkpoint: original gen_*.pt path."""
    if direction not in DIRECTIONS:
        raise MunitError(f"--direction {direction!r}: expected a2b or b2a")
    if not isinstance(config, MunitConfig):
        config = load_config(config)
    if backend not in EAGER_BACKENDS:
        raise MunitError(f"--backend {backend!r}: expected one of {', '.join(EAGER_BACKENDS)}")
    gen_a, gen_b = load_generators(config, checkpoint)
    source, target = (gen_a, gen_b) if direction == "a2b" else (gen_b, gen_a)
    return Translator(EagerBackend(source, target, device=device, precision=precision, channels_last=channels_last,
                                   kernels="triton" if backend == "triton" else "auto",
                                   compile=backend == "compile"))
