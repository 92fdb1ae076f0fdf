"""Checks every exported graph must pass before it is written, and a summary of what it contains.

- ``onnx.checker`` (full check) and strict shape inference;
- the default-domain opset is the one requested;
- no training-mode BatchNormalization (would use batch statistics at inference);
- Pad nodes are reflect/edge/constant with constant pads, Resize nodes are nearest with
  ``asymmetric`` coordinates and ``floor`` rounding (PyTorch's nearest upsample): the forms
  TensorRT's ONNX parser supports.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List

import onnx

from munit_fast.errors import MunitError

PAD_MODES = ("reflect", "edge", "constant")


@dataclass
class GraphReport:
    opset: int
    op_counts: Dict[str, int]
    pad_modes: List[str] = field(default_factory=list)
    resize_modes: List[str] = field(default_factory=list)  # "mode/coordinate_transformation_mode/nearest_mode"
    adain_patterns: int = 0  # InstanceNormalization whose output feeds a Mul (then an Add)


def _attr(node: onnx.NodeProto, name: str, default):
    for attribute in node.attribute:
        if attribute.name == name:
            value = onnx.helper.get_attribute_value(attribute)
            return value.decode() if isinstance(value, bytes) else value
    return default


def default_opset(model: onnx.ModelProto) -> int:
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return entry.version
    raise MunitError("the ONNX model imports no default-domain opset")


def graph_report(model: onnx.ModelProto) -> GraphReport:
    nodes = list(model.graph.node)
    consumers: Dict[str, List[onnx.NodeProto]] = {}
    for node in nodes:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    report = GraphReport(default_opset(model), dict(Counter(n.op_type for n in nodes)))
    for node in nodes:
        if node.op_type == "Pad":
            report.pad_modes.append(_attr(node, "mode", "constant"))
        elif node.op_type == "Resize":
            report.resize_modes.append("/".join((_attr(node, "mode", "nearest"),
                                                 _attr(node, "coordinate_transformation_mode", "half_pixel"),
                                                 _attr(node, "nearest_mode", "round_prefer_floor"))))
        elif node.op_type == "InstanceNormalization":
            muls = [c for c in consumers.get(node.output[0], []) if c.op_type == "Mul"]
            if any(a.op_type == "Add" for m in muls for a in consumers.get(m.output[0], [])):
                report.adain_patterns += 1
    return report


def check_graph(model: onnx.ModelProto, opset: int) -> onnx.ModelProto:
    """Raise MunitError naming the first problem; return ``model`` unchanged when all checks pass."""
    try:
        onnx.checker.check_model(model, full_check=True)
        onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise MunitError(f"exported graph fails the ONNX checker or shape inference: {first}") from None
    found = default_opset(model)
    if found != opset:
        raise MunitError(f"exported graph has opset {found}, requested {opset}")
    constants = {init.name for init in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "BatchNormalization" and (_attr(node, "training_mode", 0) or len(node.output) > 1):
            raise MunitError(f"graph node {node.name!r} is a training-mode BatchNormalization")
        if node.op_type == "Pad":
            if _attr(node, "mode", "constant") not in PAD_MODES:
                raise MunitError(f"graph node {node.name!r} pads with mode {_attr(node, 'mode', '')!r}")
            if len(node.input) > 1 and node.input[1] not in constants:
                raise MunitError(f"graph node {node.name!r} has computed pads; TensorRT wants constant pads")
        if node.op_type == "Resize":
            mode = (_attr(node, "mode", "nearest"), _attr(node, "coordinate_transformation_mode", "half_pixel"),
                    _attr(node, "nearest_mode", "round_prefer_floor"))
            if mode != ("nearest", "asymmetric", "floor"):
                raise MunitError(f"graph node {node.name!r} resizes with {mode}; expected nearest/asymmetric/floor")
    return model
