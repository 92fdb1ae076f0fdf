"""OpenVINO IR (``.xml`` + ``.bin``) of one direction's split graphs, converted from the fp32 ONNX
graphs (`munit_fast.export.onnx_cache`) with ``openvino.convert_model``.

Every IR carries the ONNX graph's metadata (style_dim, shapes, direction, weights_sha256, ...) in
its ``rt_info`` section ``munit_fast``, with ``precision`` set to the precision it is compiled
for: fp32 IR keeps fp32 weights, bf16 and fp16 IR store fp16 weights (OpenVINO decompresses them
at compile time), int8 IR are quantized by NNCF (`munit_fast.export.openvino_quantize`). The
metadata is read back from the XML alone, without loading the weights.
"""
from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
import xml.etree.ElementTree as ElementTree
from typing import Callable, Dict, Mapping, Optional

from munit_fast.errors import MunitError
from munit_fast.files import make_folder

from .graphs import SPLIT_PARTS
from .onnx_export import read_metadata
from .openvino_quiet import without_telemetry_lines

IR_PRECISIONS = ("fp32", "bf16", "fp16", "int8")
RT_INFO_SECTION = "munit_fast"
INSTALL_HINT = "pip install 'munit-fast[openvino]'"


def import_openvino(what: str = "--backend openvino"):
    try:
        with without_telemetry_lines():
            import openvino
    except ImportError:
        raise MunitError(f"{what} needs openvino: {INSTALL_HINT}") from None
    return openvino


@functools.lru_cache(maxsize=None)
def openvino_core():
    """The process's one ``openvino.Core``: every check, conversion and compilation shares it, and
    it lives until the process ends (OpenVINO's advice; Cores made and dropped per call were
    destroyed at arbitrary garbage collections, while compiled models were still alive)."""
    return import_openvino().Core()


def ir_filename(part: str, direction: str, precision: str) -> str:
    return f"munit_{direction}_{part}_{precision}.xml"


def weights_path(xml_path: str) -> str:
    return os.path.splitext(xml_path)[0] + ".bin"


def read_ir_metadata(path: str) -> Dict[str, str]:
    """The ``munit_fast`` rt_info of the IR at ``path`` ({} when it has none); one line when the
    file is missing or is not an IR."""
    if not os.path.isfile(path):
        raise MunitError(f"OpenVINO IR not found: {path}")
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as exc:
        raise MunitError(f"{path} is not a readable OpenVINO IR ({exc}); truncated? Export it again with "
                         "munit-fast export openvino") from None
    section = root.find(f"rt_info/{RT_INFO_SECTION}")
    if section is None:
        return {}
    return {item.tag: item.get("value", "") for item in section}


def save_ir(model, path: str, metadata: Mapping[str, str], compress_to_fp16: bool) -> None:
    """``openvino.save_model`` of ``model`` with ``metadata`` to ``path`` (+ ``.bin``), atomically:
    written into a temporary folder beside it, then renamed, weights first, so that an XML under
    the final name always has its complete weights."""
    ov = import_openvino()
    for key, value in metadata.items():
        model.set_rt_info(str(value), [RT_INFO_SECTION, key])
    folder = os.path.dirname(os.path.abspath(path))
    make_folder(folder)
    tmp = tempfile.mkdtemp(prefix=".openvino-", suffix=".tmp", dir=folder)
    try:
        staged = os.path.join(tmp, os.path.basename(path))
        ov.save_model(model, staged, compress_to_fp16=compress_to_fp16)
        os.replace(weights_path(staged), weights_path(path))
        os.replace(staged, path)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)


def ir_metadata(onnx_path: str, precision: str, **extra: str) -> Dict[str, str]:
    """The ONNX graph's metadata as the IR of ``precision`` records it."""
    ov = import_openvino()
    meta = dict(read_metadata(onnx_path))
    meta.update(precision=precision, format="openvino-ir", openvino_version=ov.get_version().split("-")[0], **extra)
    meta.pop("opset", None)
    return meta


def export_openvino(onnx_paths: Mapping[str, str], output_dir: str, direction: str, precision: str = "fp32",
                    quantize: Optional[Callable[[Dict[str, object]], Dict[str, object]]] = None,
                    quantized_meta: Optional[Mapping[str, Mapping[str, str]]] = None) -> Dict[str, str]:
    """Convert the fp32 split graphs ``onnx_paths`` ({part: path}) into IR of ``precision`` in
    ``output_dir``; returns {part: xml path}. int8 needs ``quantize``: {part: fp32 ov.Model} ->
    {part: quantized ov.Model}, and ``quantized_meta``: what each part records about it."""
    ov = import_openvino()
    if precision not in IR_PRECISIONS:
        raise MunitError(f"--precision {precision}: OpenVINO IR is one of {', '.join(IR_PRECISIONS)}")
    missing = [part for part in SPLIT_PARTS if part not in onnx_paths]
    if missing:
        raise MunitError(f"OpenVINO IR is converted from the split graphs; missing {', '.join(missing)}")
    with without_telemetry_lines():
        models = {part: ov.convert_model(onnx_paths[part]) for part in SPLIT_PARTS}
    extra: Mapping[str, Mapping[str, str]] = {part: {} for part in SPLIT_PARTS}
    if precision == "int8":
        if quantize is None:
            raise MunitError("int8 IR needs calibration: pass the quantization step (munit-fast export openvino "
                             "--precision int8 does)")
        models = quantize(models)
        extra = quantized_meta or extra
    paths = {}
    for part in SPLIT_PARTS:
        path = os.path.join(output_dir, ir_filename(part, direction, precision))
        meta = ir_metadata(onnx_paths[part], precision, **extra.get(part, {}))
        save_ir(models[part], path, meta, compress_to_fp16=precision in ("bf16", "fp16"))
        paths[part] = path
    return paths
