"""Graph structure: the ops TensorRT's ONNX parser takes, AdaIN as InstanceNormalization + Mul + Add,
MUNIT's LayerNorm decomposed, fp16 graphs with fp32 statistics, opset and metadata as requested."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from munit_fast.errors import MunitError
from munit_fast.export import PARTS, check_graph, export_graph, graph_report, read_metadata

N_RES = 2  # the reference model
N_DOWNSAMPLE = 2


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
@pytest.mark.parametrize("part", PARTS)
def test_graph_ops_are_what_tensorrt_parses(reference_graphs, precision, part):
    model = onnx.load(reference_graphs[precision][part])
    check_graph(model, 17)  # checker, strict shape inference, opset, pads, resizes, no training BN
    report = graph_report(model)
    assert report.opset == 17
    assert "BatchNormalization" not in report.op_counts
    assert "LayerNormalization" not in report.op_counts  # MUNIT's LayerNorm (unbiased std + eps on std) decomposed
    assert report.pad_modes and set(report.pad_modes) == {"reflect"}
    if part in ("translate", "decoder"):
        assert report.resize_modes == ["nearest/asymmetric/floor"] * N_DOWNSAMPLE
        assert report.adain_patterns == 2 * N_RES  # every AdaIN is InstanceNormalization -> Mul -> Add
    if part == "content_encoder":
        assert report.op_counts["InstanceNormalization"] == 1 + N_DOWNSAMPLE + 2 * N_RES


def _value_types(model):
    inferred = onnx.shape_inference.infer_shapes(model)
    types = {v.name: v.type.tensor_type.elem_type
             for v in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output)}
    types.update({i.name: i.data_type for i in model.graph.initializer})
    return types


@pytest.mark.parametrize("part", ["translate", "decoder"])
def test_fp16_graph_keeps_statistics_in_fp32(reference_graphs, part):
    model = onnx.load(reference_graphs["fp16"][part])
    types = _value_types(model)
    nodes = list(model.graph.node)
    norm_inputs = [n.input[0] for n in nodes if n.op_type in ("InstanceNormalization", "ReduceMean")]
    assert norm_inputs and all(types[name] == TensorProto.FLOAT for name in norm_inputs)
    convs = [n for n in nodes if n.op_type == "Conv"]
    assert convs and all(types[n.input[1]] == TensorProto.FLOAT16 for n in convs)
    assert all(types[o.name] == TensorProto.FLOAT for o in model.graph.output)  # fp32 I/O in every variant


def test_metadata_props(reference_graphs):
    meta = read_metadata(reference_graphs["fp16"]["decoder"])
    assert meta["style_dim"] == "8" and meta["n_downsample"] == "2" and meta["direction"] == "a2b"
    assert meta["precision"] == "fp16" and meta["part"] == "decoder" and meta["munit_fast_version"]
    assert "instance_norm" in meta["normalization"]


@pytest.mark.parametrize("opset", [13, 18])
def test_opset_as_requested(reference_generators, tmp_path, opset):
    gen_a, gen_b = reference_generators
    path = str(tmp_path / "decoder.onnx")
    export_graph("decoder", gen_a, gen_b, path, opset=opset)
    model = onnx.load(path)
    assert graph_report(model).opset == opset
    assert read_metadata(model)["opset"] == str(opset)


def test_bad_opset_is_a_one_line_error(reference_generators, tmp_path):
    with pytest.raises(MunitError, match="--opset 11"):
        export_graph("decoder", *reference_generators, str(tmp_path / "d.onnx"), opset=11)


def _single_node_model(node, inputs, outputs, initializers=(), opset=17):
    graph = helper.make_graph([node], "g", inputs, outputs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _x(name="x", shape=(1, 2, 4, 4)):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def test_check_graph_rejects_training_batchnorm():
    params = [numpy_helper.from_array(np.ones(2, np.float32), n) for n in ("s", "b", "m", "v")]
    node = helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "rm", "rv"], training_mode=1)
    outs = [_x("y"), helper.make_tensor_value_info("rm", TensorProto.FLOAT, [2]),
            helper.make_tensor_value_info("rv", TensorProto.FLOAT, [2])]
    with pytest.raises(MunitError, match="training-mode BatchNormalization"):
        check_graph(_single_node_model(node, [_x()], outs, params), 17)


def test_check_graph_rejects_linear_resize():
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], mode="linear")
    with pytest.raises(MunitError, match="nearest/asymmetric/floor"):
        check_graph(_single_node_model(node, [_x()], [_x("y", (1, 2, 8, 8))], [scales]), 17)


def test_check_graph_rejects_computed_pads_and_wrong_opset():
    node = helper.make_node("Pad", ["x", "pads"], ["y"], mode="reflect")
    pads = helper.make_tensor_value_info("pads", TensorProto.INT64, [8])
    model = _single_node_model(node, [_x(), pads], [_x("y", (1, 2, "h", "w"))])
    with pytest.raises(MunitError, match="computed pads"):
        check_graph(model, 17)
    with pytest.raises(MunitError, match="opset 17, requested 18"):
        check_graph(model, 18)


def test_fp32_graph_has_no_leftover_casts(reference_graphs):
    """The exporter's x.float() on fp32 tensors becomes identity Casts; they are removed (but for
    one that names a graph output)."""
    model = onnx.load(reference_graphs["fp32"]["content_encoder"])
    types = _value_types(model)
    outputs = {o.name for o in model.graph.output}
    identity = [n for n in model.graph.node if n.op_type == "Cast" and n.output[0] not in outputs
                and types[n.input[0]] == helper.get_attribute_value(n.attribute[0])]
    assert identity == []


def test_simplify_without_onnxsim_is_a_one_line_error(reference_generators, tmp_path):
    try:
        import onnxsim  # noqa: F401
    except ImportError:
        with pytest.raises(MunitError, match="--simplify needs onnxsim"):
            export_graph("style_encoder", *reference_generators, str(tmp_path / "s.onnx"), simplify=True)
    else:
        export_graph("style_encoder", *reference_generators, str(tmp_path / "s.onnx"), simplify=True)
        check_graph(onnx.load(str(tmp_path / "s.onnx")), 17)
