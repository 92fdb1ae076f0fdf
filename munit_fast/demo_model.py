"""The built-in demo model: a small MUNIT trained by munit-fast on the synthetic shapes dataset
(sketches -> filled shapes in 4 appearance modes), shipped in the original checkpoint format. Its
config is the one users train it with (configs/shapes_demo.yaml, installed as munit_fast.configs);
there is no second copy. Every command that needs a model uses it when given no
--config/--checkpoint."""
from __future__ import annotations

import importlib.resources
import os

ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets")
DEMO_CONFIG = str(importlib.resources.files("munit_fast.configs").joinpath("shapes_demo.yaml"))
DEMO_CHECKPOINT = os.path.join(ASSETS, "shapes_demo_gen.pt")
