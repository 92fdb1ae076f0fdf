"""INT8 OpenVINO IR by NNCF post-training quantization of the fp32 split graphs.

The convolutions run in INT8 (weights per output channel, activations per tensor, NNCF's
PERFORMANCE preset). The layers of every normalization (``norm`` modules: instance norm, AdaIN's
per-channel scale and shift, the decoder's layer norm) and the style MLP stay in floating point
(`FLOAT_SCOPE`): AdaIN's scales and shifts differ per channel and per style, and one per-tensor
INT8 range for them, or for the layer-norm statistics, costs far more quality than those few
elementwise layers gain in speed (docs/benchmarks.md has the measurements). The style encoder,
run once per example image and never per frame, is not quantized.

Calibration: images of the source domain (`munit_fast.export.calibration`), one per step; the
decoder's steps are their fp32 content codes with styles drawn from N(0, I).
"""
from __future__ import annotations

import contextlib
import io
import logging
from typing import Dict, Mapping

import numpy as np

from munit_fast.errors import MunitError

from .calibration import calibration_feeds
from .openvino_export import INSTALL_HINT, openvino_core
from .openvino_quiet import without_telemetry_lines

FLOAT_SCOPE = (".*/norm/.*", ".*/mlp/.*")  # node name patterns of the exported graphs kept in float
QUANTIZED_PARTS = ("content_encoder", "decoder")
QUANTIZED_META = {part: {"int8": "yes", "float_scope": " ".join(FLOAT_SCOPE)} if part in QUANTIZED_PARTS
                  else {"int8": "no (float)"} for part in ("content_encoder", "style_encoder", "decoder")}


def import_nncf():
    try:
        with without_telemetry_lines():
            import nncf
    except ImportError:
        raise MunitError(f"--precision int8 with OpenVINO quantizes with NNCF, which is not installed: "
                         f"{INSTALL_HINT}") from None
    logging.getLogger("nncf").setLevel(logging.ERROR)  # per-layer INFO lines and statistics progress bars
    return nncf


def quantize_model(model, feeds, nncf):
    """One fp32 ov.Model -> INT8 with ``feeds`` ({input name: array} per step) as calibration data."""
    ignored = nncf.IgnoredScope(patterns=list(FLOAT_SCOPE), validate=False)
    quiet = io.StringIO()  # NNCF draws progress bars on the console; the command prints its own line
    with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet), without_telemetry_lines():
        return nncf.quantize(model, nncf.Dataset(list(feeds)), subset_size=len(feeds), ignored_scope=ignored)


def quantize_split_models(models: Mapping[str, object], images: np.ndarray, meta: Mapping[str, str],
                          seed: int = 0) -> Dict[str, object]:
    """{part: fp32 ov.Model} -> the same with the content encoder and decoder quantized.

    images (N, input_dim, H, W) in [-1, 1]: the source-domain calibration images; ``meta`` the
    split graphs' metadata (content_dim, style_dim)."""
    nncf = import_nncf()
    if len(images) < 1:
        raise MunitError("INT8 calibration needs at least one image")
    _, channels, height, width = images.shape
    scale = 2 ** int(meta["n_downsample"])
    encoder = openvino_core().compile_model(models["content_encoder"], "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    encode = lambda batch: encoder([batch])[0]  # noqa: E731
    image_feeds = calibration_feeds({"part": "content_encoder"}, images, {"image": (1, channels, height, width)})
    content_shape = (1, int(meta["content_dim"]), height // scale, width // scale)
    decoder_feeds = calibration_feeds({"part": "decoder"}, images,
                                      {"content": content_shape, "style": (1, int(meta["style_dim"]))}, encode, seed)
    quantized = dict(models)
    quantized["content_encoder"] = quantize_model(models["content_encoder"], image_feeds, nncf)
    quantized["decoder"] = quantize_model(models["decoder"], decoder_feeds, nncf)
    return quantized
