"""Export one direction of a MUNIT model to ONNX: the ``translate`` graph and the split graphs.

Exporter: the TorchScript-based ``torch.onnx.export(..., dynamo=False)``. It emits
``InstanceNormalization`` for ``F.instance_norm`` (so AdaIN is InstanceNormalization + Mul + Add),
honours any ``opset_version`` from 13 on, and takes ``dynamic_axes`` for batch, height and width.
The dynamo exporter of this torch version needs opset >= 18 (it version-converts down, or fails)
and is not used. Normalization kernels export through their PyTorch references (see
``munit_fast.kernels.dispatch``).
"""
from __future__ import annotations

import copy
import hashlib
import os
import tempfile
import warnings
from typing import Dict, Iterable, List, Optional

import onnx
import torch

import munit_fast
from munit_fast.errors import MunitError
from munit_fast.files import atomic_write_bytes, make_folder
from munit_fast.model import AdaINGen, set_kernel_impl
from munit_fast.model.precision import cast_convolutions

from .graphs import PARTS, SIGNATURES, build_graph, example_inputs
from .onnx_checks import check_graph
from .onnx_fold import fold_constants, remove_identity_casts
from .opsets import DEFAULT_OPSET, MAX_OPSET, MIN_OPSET

PRECISION_DTYPES = {"fp32": torch.float32, "fp16": torch.float16}


def weights_digest(source: AdaINGen, target: AdaINGen) -> str:
    """SHA-256 of the two generators' weights (names and fp32 values): the graphs' link to the
    checkpoint they were exported from, whatever file format held it."""
    digest = hashlib.sha256()
    for module in (source, target):
        for key, value in sorted(module.state_dict().items()):
            digest.update(key.encode())
            digest.update(value.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()


def graph_metadata(part: str, source: AdaINGen, target: AdaINGen, direction: str, precision: str,
                   opset: int) -> Dict[str, str]:
    """The metadata_props every exported graph carries; runtimes read shapes and scales from it."""
    return {
        "weights_sha256": weights_digest(source, target),
        "munit_fast_version": munit_fast.__version__,
        "part": part,
        "direction": direction,
        "precision": precision,
        "opset": str(opset),
        "style_dim": str(target.style_dim),
        "n_downsample": str(source.n_downsample),
        "input_dim": str(source.input_dim),
        "output_dim": str(target.input_dim),
        "content_dim": str(target.content_dim),
        "normalization": "content_encoder=instance_norm;decoder=adain(instance_norm+mul+add),layer_norm(decomposed)",
        "input_range": "[-1, 1]",
    }


def _prepared(gen: AdaINGen, dtype: torch.dtype) -> AdaINGen:
    """A CPU copy in eval mode with reference kernels and the convolutions in ``dtype``."""
    gen = copy.deepcopy(gen).cpu().float().eval()
    set_kernel_impl(gen, "ref")
    cast_convolutions(gen, dtype)
    return gen


def _simplify(model: onnx.ModelProto) -> onnx.ModelProto:
    try:
        import onnxsim
    except ImportError:
        raise MunitError("--simplify needs onnxsim (pip install onnxsim); the graphs are clean without it") from None
    simplified, ok = onnxsim.simplify(model)
    if not ok:
        raise MunitError("onnxsim could not validate the simplified graph; export again without --simplify")
    return simplified


def export_graph(part: str, source: AdaINGen, target: AdaINGen, path: str, direction: str = "a2b",
                 opset: int = DEFAULT_OPSET, precision: str = "fp32", simplify: bool = False) -> onnx.ModelProto:
    """Export one graph to ``path`` (written atomically) and return the checked model."""
    if part not in PARTS:
        raise MunitError(f"--parts: unknown graph {part!r}; expected a comma list of {', '.join(PARTS)}")
    if precision not in PRECISION_DTYPES:
        raise MunitError(f"precision {precision!r}: expected fp32 or fp16")
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise MunitError(f"--opset {opset}: expected {MIN_OPSET} .. {MAX_OPSET} (InstanceNormalization, Resize and "
                         "Pad forms need 13; the exporter writes up to 20)")
    dtype = PRECISION_DTYPES[precision]
    src, tgt = _prepared(source, dtype), _prepared(target, dtype)
    module = build_graph(part, src, tgt, dtype).eval()
    signature = SIGNATURES[part]
    folder = os.path.dirname(os.path.abspath(path))
    make_folder(folder)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        raw = os.path.join(tmp, "raw.onnx")
        with warnings.catch_warnings(), torch.no_grad():
            # The legacy-exporter notice and tracer notices about shape comparisons, which the
            # graphs do not depend on (the decoder's batch broadcast is a traced Gather).
            warnings.simplefilter("ignore")
            torch.onnx.export(module, example_inputs(part, src, tgt), raw, input_names=list(signature.inputs),
                              output_names=list(signature.outputs), dynamic_axes=signature.dynamic_axes,
                              opset_version=opset, do_constant_folding=True, dynamo=False)
        model = onnx.load(raw)
    model = remove_identity_casts(fold_constants(model))
    if simplify:
        model = _simplify(model)
    model.producer_name = "munit-fast"
    model.producer_version = munit_fast.__version__
    onnx.helper.set_model_props(model, graph_metadata(part, source, target, direction, precision, opset))
    model = check_graph(model, opset)
    save_model_atomic(model, path)
    return model


def save_model_atomic(model: onnx.ModelProto, path: str) -> None:
    atomic_write_bytes(path, model.SerializeToString())


def graph_filename(part: str, direction: str, precision: str) -> str:
    return f"munit_{direction}_{part}_{precision}.onnx"


def export_onnx(source: AdaINGen, target: AdaINGen, output_dir: str, direction: str = "a2b",
                parts: Iterable[str] = PARTS, opset: int = DEFAULT_OPSET, precision: str = "fp32",
                simplify: bool = False) -> Dict[str, str]:
    """Export ``parts`` into ``output_dir``; returns {part: path}."""
    paths = {}
    for part in parts:
        path = os.path.join(output_dir, graph_filename(part, direction, precision))
        export_graph(part, source, target, path, direction, opset, precision, simplify)
        paths[part] = path
    return paths


def load_graph(path: str) -> onnx.ModelProto:
    """onnx.load with a one-line error for missing, truncated or foreign files."""
    if not os.path.isfile(path):
        raise MunitError(f"ONNX graph not found: {path}")
    try:
        return onnx.load(path, load_external_data=False)
    except Exception as exc:  # protobuf's DecodeError, and onnx's own errors, for anything that is not a graph
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MunitError(f"{path} is not a readable ONNX graph ({first}); truncated, or not ONNX? Export it again "
                         "with munit-fast export onnx") from None


def read_metadata(model_or_path) -> Dict[str, str]:
    model = load_graph(model_or_path) if isinstance(model_or_path, str) else model_or_path
    return {prop.key: prop.value for prop in model.metadata_props}


def parse_parts(text: Optional[str]) -> List[str]:
    """``"translate,decoder"`` -> ["translate", "decoder"], checked against the known graphs."""
    if not text:
        return list(PARTS)
    parts = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown or not parts:
        raise MunitError(f"--parts {text!r}: unknown {unknown}; expected a comma list of {', '.join(PARTS)}")
    return parts
