"""Where the TensorRT backend finds its engines: beside the ONNX graphs or in ``--engine-dir``,
built there (with a default shape profile) when missing."""
from __future__ import annotations

import os
from typing import Dict, Optional

from munit_fast.config import MunitConfig

from .graphs import SPLIT_PARTS
from .trt_profiles import ImageProfile

DEFAULT_MAX_STYLES = 8
DEFAULT_MAX_IMAGE = (1080, 1920)


def default_image_profile(config: MunitConfig, direction: str) -> ImageProfile:
    """Engines built on the fly: batch 1 to 8, 128x128 to 1080x1920, optimized for one image at the
    config's new_size."""
    source = "a" if direction == "a2b" else "b"
    channels = config.input_dim(source)
    multiple = 2 ** config.gen.n_downsample
    size = -(-config.size_for(source) // multiple) * multiple
    return ImageProfile((1, channels, 128, 128), (1, channels, size, size),
                        (DEFAULT_MAX_STYLES, channels) + DEFAULT_MAX_IMAGE)


def resolve_engines(graphs: Dict[str, str], direction: str, precision: str, engine_dir: Optional[str],
                    config: MunitConfig) -> Dict[str, str]:
    """{part: engine path} in ``engine_dir`` (default: beside the ONNX graphs), built when missing."""
    from .trt_build import BuildOptions, build_engine

    folder = engine_dir or os.path.dirname(os.path.abspath(graphs["decoder"]))
    engines = {}
    for part in SPLIT_PARTS:
        path = os.path.join(folder, f"munit_{direction}_{part}_{precision}.engine")
        if not os.path.isfile(path):
            profile = default_image_profile(config, direction)
            if part == "style_encoder" and config.input_dim_a != config.input_dim_b:
                channels = config.input_dim("b" if direction == "a2b" else "a")
                profile = ImageProfile(*((s[0], channels) + s[2:] for s in (profile.min, profile.opt, profile.max)))
            build_engine(graphs[part], path, BuildOptions(precision=precision, images=profile,
                                                          styles=DEFAULT_MAX_STYLES))
        engines[part] = path
    return engines
