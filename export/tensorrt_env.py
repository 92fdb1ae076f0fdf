"""Importing TensorRT and describing the machine an engine is built or run on."""
from __future__ import annotations

from typing import Tuple

import torch

from munit_fast.errors import MunitError

NOT_INSTALLED = "tensorrt is not installed"


def import_tensorrt():
    try:
        import tensorrt
    except ImportError:
        raise MunitError(f"{NOT_INSTALLED}: pip install tensorrt (x86 + CUDA), or on Jetson use JetPack's "
                         "python3-libnvinfer; or run the ONNX graphs with --backend onnx") from None
    return tensorrt


def tensorrt_major(trt) -> int:
    return int(trt.__version__.split(".")[0])


def gpu_identity(device: torch.device) -> Tuple[str, str]:
    """(name, "major.minor" compute capability) of the CUDA device."""
    if not torch.cuda.is_available():
        raise MunitError("TensorRT needs a CUDA GPU and none is visible; use --backend onnx on this machine")
    props = torch.cuda.get_device_properties(device)
    return props.name, f"{props.major}.{props.minor}"
