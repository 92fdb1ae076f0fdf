"""The built-in demo model: a small MUNIT trained by munit-fast on the synthetic shapes dataset
(sketches -> filled shapes in 4 appearance modes), shipped in the original checkpoint format with
its config. Every command that needs a model uses it when given no --config/--checkpoint."""
from __future__ import annotations

import os

ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets")
DEMO_CONFIG = os.path.join(ASSETS, "shapes_demo.yaml")
DEMO_CHECKPOINT = os.path.join(ASSETS, "shapes_demo_gen.pt")
