"""The built-in demo model: a small MUNIT trained by munit-fast on the synthetic shapes dataset
(sketches -> filled shapes in 4 appearance modes), shipped in the original checkpoint format with
its config. Every command that needs a model uses it when given no --config/--checkpoint."""
from __future__ import annotations

import os
import sys

from .errors import MunitError

ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets")
DEMO_CONFIG = os.path.join(ASSETS, "shapes_demo.yaml")
DEMO_CHECKPOINT = os.path.join(ASSETS, "shapes_demo_gen.pt")


def resolve_model(args) -> None:
    """Fill ``args.config``/``args.checkpoint`` with the demo model when both are missing, and say so."""
    if args.config and args.checkpoint:
        return
    if args.config or args.checkpoint:
        missing = "--checkpoint" if args.config else "--config"
        raise MunitError(f"{missing} is missing: pass both --config and --checkpoint, or neither for the demo model")
    if not os.path.isfile(DEMO_CHECKPOINT):
        raise MunitError("no --config/--checkpoint given and this installation has no demo model; pass both")
    print("munit-fast: no --config/--checkpoint given: using the built-in shapes demo model "
          "(sketches -> filled shapes)", file=sys.stderr)
    args.config, args.checkpoint = DEMO_CONFIG, DEMO_CHECKPOINT
