"""Where the ONNX backend finds its graphs: a folder the user names, or a cache keyed by the model.

``--onnx-dir DIR``: graphs named ``munit_<direction>_<part>_<precision>.onnx`` are used when
present (prebuilt with ``munit-fast export onnx``) and exported there when not. Without it the
graphs are exported once into ``$MUNIT_FAST_CACHE`` (default ``~/.cache/munit-fast``)
``/onnx/<hash of checkpoint bytes, model config, direction, precision, opset>/``.

Every graph carries the SHA-256 of the weights it was exported from: a prebuilt graph of another
checkpoint (even one of the same shapes) is refused, a stale cached one exported again.
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import Dict, Optional

from munit_fast.config import MunitConfig
from munit_fast.errors import MunitError

from .files import sha256_file
from .graphs import SPLIT_PARTS
from .onnx_export import DEFAULT_OPSET, export_onnx, graph_filename, read_metadata, weights_digest

CACHE_ENV = "MUNIT_FAST_CACHE"


def cache_root() -> str:
    return os.environ.get(CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "munit-fast")


def cache_folder(kind: str, key: str, option: str) -> str:
    """``<cache root>/<kind>/<key>``, created; one line naming ``option`` (the way round it) and
    CACHE_ENV when it cannot be (a read-only or missing home, as in many containers)."""
    folder = os.path.join(cache_root(), kind, key)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise MunitError(f"cannot write the model cache {folder}: {exc.strerror or exc}; pass {option} DIR, or "
                         f"set {CACHE_ENV} to a writable folder") from None
    return folder


def model_key(config: MunitConfig, checkpoint: str, direction: str, precision: str, opset: int) -> str:
    digest = hashlib.sha256(sha256_file(checkpoint).encode())
    model = {"gen": config.to_dict()["gen"], "input_dim_a": config.input_dim_a, "input_dim_b": config.input_dim_b,
             "direction": direction, "precision": precision, "opset": opset}
    digest.update(json.dumps(model, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def metadata_mismatch(meta: Dict[str, str], config: MunitConfig, direction: str, precision: Optional[str] = None,
                      weights: Optional[str] = None) -> Optional[str]:
    """What in an artifact's munit-fast metadata does not fit this config, direction, precision
    (None: any) and weights (`weights_digest` of the generators), or None when it all fits."""
    source, target = (("a", "b") if direction == "a2b" else ("b", "a"))
    expected = {"direction": direction, "style_dim": str(config.gen.style_dim),
                "n_downsample": str(config.gen.n_downsample), "input_dim": str(config.input_dim(source)),
                "output_dim": str(config.input_dim(target)),
                "content_dim": str(config.gen.dim * 2 ** config.gen.n_downsample)}
    if precision is not None:
        expected["precision"] = precision
    for key, value in expected.items():
        if meta.get(key) != value:
            return f"has {key}={meta.get(key)!r}, this config and direction need {value!r}"
    if weights is not None and meta.get("weights_sha256") != weights:
        found = meta.get("weights_sha256", "none recorded")[:12]
        return f"was exported from other weights (sha256 {found}..., this checkpoint's is {weights[:12]}...)"
    return None


def check_graph_matches(path: str, config: MunitConfig, direction: str, precision: Optional[str] = None,
                        weights: Optional[str] = None) -> Dict[str, str]:
    """The graph's metadata, or one line when it was exported for another model, direction,
    precision (None: any) or other weights (``weights``: `weights_digest` of the generators)."""
    meta = read_metadata(path)
    if "direction" not in meta:
        raise MunitError(f"{path} is not a graph exported by munit-fast export onnx (no munit-fast metadata)")
    mismatch = metadata_mismatch(meta, config, direction, precision, weights)
    if mismatch:
        raise MunitError(f"ONNX graph {path} {mismatch}: export it again with munit-fast export onnx, or point "
                         "--onnx-dir elsewhere")
    return meta


def generator_weights(config: MunitConfig, checkpoint: str, direction: str):
    """(source, target, `weights_digest`) of one direction of the checkpoint."""
    from munit_fast.checkpoint import load_generators

    gen_a, gen_b = load_generators(config, checkpoint)
    source, target = (gen_a, gen_b) if direction == "a2b" else (gen_b, gen_a)
    return source, target, weights_digest(source, target)


def resolve_onnx_graphs(config: MunitConfig, checkpoint: str, direction: str, precision: str = "fp32",
                        onnx_dir: Optional[str] = None, opset: int = DEFAULT_OPSET) -> Dict[str, str]:
    """{part: path} of the split graphs, exporting them first when they are not there yet."""
    if precision not in ("fp32", "fp16"):
        raise MunitError(f"--precision {precision}: the onnx backend runs fp32 or fp16 graphs")
    cached = onnx_dir is None
    if cached:
        if not os.path.isfile(checkpoint):
            raise MunitError(f"checkpoint not found: {checkpoint}")
        onnx_dir = cache_folder("onnx", model_key(config, checkpoint, direction, precision, opset), "--onnx-dir")
    source, target, weights = generator_weights(config, checkpoint, direction)
    paths = {part: os.path.join(onnx_dir, graph_filename(part, direction, precision)) for part in SPLIT_PARTS}
    missing = [part for part, path in paths.items() if not os.path.isfile(path)]
    if cached:  # a cache entry left half-written or by an older version is simply made again
        missing += [part for part in SPLIT_PARTS if part not in missing
                    and read_metadata(paths[part]).get("weights_sha256") != weights]
    if missing:
        export_onnx(source, target, onnx_dir, direction, missing, opset, precision)
    for path in paths.values():
        check_graph_matches(path, config, direction, precision, weights)
    return paths
