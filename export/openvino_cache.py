"""Where the OpenVINO backend finds its IR: a folder the user names, or a cache keyed by the model.

``--openvino-dir DIR``: IR named ``munit_<direction>_<part>_<precision>.xml`` (+ ``.bin``) are used
when present (prebuilt with ``munit-fast export openvino``) and built there when not. Without it
the IR is built once into ``$MUNIT_FAST_CACHE/openvino/<hash of checkpoint bytes, model config,
direction, precision and, for int8, the calibration source>/``.

IR records the SHA-256 of the weights it was converted from: IR of another checkpoint in a user
folder is refused, a stale cached one built again. The IR is converted from the fp32 ONNX split
graphs (`munit_fast.export.onnx_cache`: ``--onnx-dir`` or their own cache).
"""
from __future__ import annotations

import hashlib
import os
import sys
from typing import Dict, Optional

from munit_fast.config import MunitConfig
from munit_fast.errors import MunitError

from .calibration import default_calibration_images, load_calibration_images
from .graphs import SPLIT_PARTS
from .onnx_cache import cache_folder, generator_weights, metadata_mismatch, model_key, resolve_onnx_graphs
from .onnx_export import read_metadata
from .openvino_export import IR_PRECISIONS, export_openvino, ir_filename, read_ir_metadata, weights_path
from .opsets import DEFAULT_OPSET

DEFAULT_CALIB_IMAGES = 32


def ir_key(config: MunitConfig, checkpoint: str, direction: str, precision: str, calib: Optional[str],
           calib_images: int) -> str:
    digest = hashlib.sha256(model_key(config, checkpoint, direction, precision, DEFAULT_OPSET).encode())
    if precision == "int8":
        digest.update(f"{os.path.abspath(calib) if calib else 'default'}:{calib_images}".encode())
    return digest.hexdigest()[:16]


def calibration_images(config: MunitConfig, direction: str, calib: Optional[str], count: int):
    """(images (N, C, S, S) in [-1, 1] at the config's size, what they are) from ``--calib`` or the default set."""
    source = "a" if direction == "a2b" else "b"
    if not calib:
        return default_calibration_images(config, source, count)
    multiple = 2 ** config.gen.n_downsample
    size = -(-config.size_for(source) // multiple) * multiple
    images = load_calibration_images(calib, (1, config.input_dim(source), size, size), count)
    return images, f"{len(images)} images of {calib}"


def build_ir(config: MunitConfig, checkpoint: str, direction: str, precision: str, output_dir: str,
             calib: Optional[str] = None, calib_images: int = DEFAULT_CALIB_IMAGES,
             onnx_dir: Optional[str] = None) -> Dict[str, str]:
    """Convert (and for int8 quantize) one direction's split graphs into ``output_dir``; {part: xml}."""
    if precision not in IR_PRECISIONS:
        raise MunitError(f"--precision {precision}: OpenVINO IR is one of {', '.join(IR_PRECISIONS)}")
    if calib and precision != "int8":
        raise MunitError("--calib calibrates INT8: pass it with --precision int8")
    quantize, extra = None, None
    if precision == "int8":
        from .openvino_quantize import QUANTIZED_META, import_nncf, quantize_split_models

        import_nncf()  # before minutes of export, not after
        images, described = calibration_images(config, direction, calib, calib_images)
        extra = {part: dict(meta, calibration=described) for part, meta in QUANTIZED_META.items()}
    graphs = resolve_onnx_graphs(config, checkpoint, direction, "fp32", onnx_dir)
    if precision == "int8":
        meta = read_metadata(graphs["decoder"])
        quantize = lambda models: quantize_split_models(models, images, meta)  # noqa: E731
        print(f"munit-fast: quantizing to INT8 with NNCF, calibrated on {described}", file=sys.stderr)
    return export_openvino(graphs, output_dir, direction, precision, quantize, extra)


def resolve_openvino_ir(config: MunitConfig, checkpoint: str, direction: str, precision: str = "fp32",
                        openvino_dir: Optional[str] = None, calib: Optional[str] = None,
                        calib_images: int = DEFAULT_CALIB_IMAGES, onnx_dir: Optional[str] = None) -> Dict[str, str]:
    """{part: xml path} of the IR of ``precision``, built first when it is not there yet."""
    if precision not in IR_PRECISIONS:
        raise MunitError(f"--precision {precision}: the openvino backend runs {', '.join(IR_PRECISIONS)}")
    if not os.path.isfile(checkpoint):
        raise MunitError(f"checkpoint not found: {checkpoint}")
    cached = openvino_dir is None
    if cached:
        openvino_dir = cache_folder("openvino", ir_key(config, checkpoint, direction, precision, calib, calib_images),
                                    "--openvino-dir")
    _, _, weights = generator_weights(config, checkpoint, direction)
    paths = {part: os.path.join(openvino_dir, ir_filename(part, direction, precision)) for part in SPLIT_PARTS}
    complete = all(os.path.isfile(path) and os.path.isfile(weights_path(path)) for path in paths.values())
    for path in paths.values():
        if not os.path.isfile(path):
            continue
        mismatch = metadata_mismatch(read_ir_metadata(path), config, direction, precision, weights)
        if mismatch and not cached:
            raise MunitError(f"OpenVINO IR {path} {mismatch}: build it again with munit-fast export openvino, or "
                             "point --openvino-dir elsewhere")
        complete = complete and not mismatch  # a stale or half-written cache entry is simply built again
    if not complete:
        build_ir(config, checkpoint, direction, precision, openvino_dir, calib, calib_images, onnx_dir)
    return paths
