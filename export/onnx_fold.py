"""Constant folding for exported graphs: evaluate every node whose inputs are all constants.

The TorchScript exporter leaves the pad amounts of reflect pads as a chain of Slice (step -1),
Transpose and Reshape nodes on constants that its own folding skips. Folding them leaves one
``Pad(x, pads=initializer, mode=reflect)`` per pad, the form TensorRT's ONNX parser takes best.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.reference import ReferenceEvaluator

_NEVER_FOLD = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial"}


def _untyped(name: str):
    return onnx.helper.make_tensor_value_info(name, onnx.TensorProto.UNDEFINED, None)


def _constant_value(node: onnx.NodeProto) -> np.ndarray:
    return numpy_helper.to_array(onnx.helper.get_attribute_value(node.attribute[0]))


def fold_constants(model: onnx.ModelProto, max_elements: int = 1 << 16) -> onnx.ModelProto:
    """Replace constant subgraphs producing at most ``max_elements`` values by initializers (in place)."""
    graph = model.graph
    known = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    opset = [o for o in model.opset_import if o.domain in ("", "ai.onnx")]
    kept = []
    for node in graph.node:
        if node.op_type == "Constant" and len(node.attribute) == 1 and node.attribute[0].name == "value":
            known[node.output[0]] = _constant_value(node)
            continue
        inputs = [name for name in node.input if name]
        if node.op_type in _NEVER_FOLD or node.domain not in ("", "ai.onnx") or not all(n in known for n in inputs):
            kept.append(node)
            continue
        if any(known[n].size > max_elements for n in inputs):  # weights: keep the op, not a copy
            kept.append(node)
            continue
        single = onnx.helper.make_model(
            onnx.helper.make_graph([node], "fold", [_untyped(n) for n in inputs], [_untyped(n) for n in node.output]),
            opset_imports=opset)
        outputs = ReferenceEvaluator(single).run(None, {n: known[n] for n in inputs})
        for name, value in zip(node.output, outputs):
            known[name] = np.asarray(value)
    used = {name for node in kept for name in node.input} | {o.name for o in graph.output}
    initializers = {init.name for init in graph.initializer}
    new_inits = [numpy_helper.from_array(value, name) for name, value in known.items()
                 if name in used and name not in initializers]
    del graph.node[:]
    graph.node.extend(kept)
    keep_inits = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep_inits + new_inits)
    return model


def remove_identity_casts(model: onnx.ModelProto) -> onnx.ModelProto:
    """Drop Cast nodes whose input already has the target type (the fp32 graph's ``x.float()``), in place."""
    inferred = onnx.shape_inference.infer_shapes(model)
    types = {v.name: v.type.tensor_type.elem_type
             for v in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output)}
    types.update({init.name: init.data_type for init in model.graph.initializer})
    outputs = {o.name for o in model.graph.output}
    rename = {}
    kept = []
    for node in model.graph.node:
        node.input[:] = [rename.get(name, name) for name in node.input]
        if node.op_type == "Cast" and node.output[0] not in outputs:
            target = onnx.helper.get_attribute_value(node.attribute[0])
            if types.get(node.input[0]) == target:
                rename[node.output[0]] = node.input[0]
                continue
        kept.append(node)
    del model.graph.node[:]
    model.graph.node.extend(kept)
    return model
