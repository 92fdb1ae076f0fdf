"""Export: ONNX graphs (and TensorRT engines built from them).

The names below load on first use, so that importing ``munit_fast.export.opsets`` (as the
command line does) needs no ``onnx``; everything else needs ``onnx``, and ONNX Runtime and
TensorRT only in the modules that run them.
"""
import importlib

_LAZY = {
    "ErrorStats": "compare", "error_stats": "compare", "psnr": "compare",
    "PARTS": "graphs", "SPLIT_PARTS": "graphs", "build_graph": "graphs",
    "GraphReport": "onnx_checks", "check_graph": "onnx_checks", "graph_report": "onnx_checks",
    "DEFAULT_OPSET": "opsets",
    "export_graph": "onnx_export", "export_onnx": "onnx_export", "graph_filename": "onnx_export",
    "parse_parts": "onnx_export", "read_metadata": "onnx_export",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
