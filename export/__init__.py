"""ONNX export, the ONNX Runtime backend and the TensorRT engine path.

Importing this package needs ``onnx``; ONNX Runtime and TensorRT are imported only by the
modules that run them.
"""
from .compare import ErrorStats, error_stats, psnr
from .graphs import PARTS, SPLIT_PARTS, build_graph
from .onnx_checks import GraphReport, check_graph, graph_report
from .onnx_export import DEFAULT_OPSET, export_graph, export_onnx, graph_filename, parse_parts, read_metadata

__all__ = [
    "DEFAULT_OPSET", "ErrorStats", "GraphReport", "PARTS", "SPLIT_PARTS", "build_graph", "check_graph",
    "error_stats", "export_graph", "export_onnx", "graph_filename", "graph_report", "parse_parts", "psnr",
    "read_metadata",
]
