"""The one list of inference backends: each backend's name, what it runs, the precisions and
devices it supports, what it needs installed, and how it says it is unavailable. ``auto`` is
resolved here and only here (`choose_backend`).

A backend module (``munit_fast.runtime.backends.<module>``) has ``build(request) -> Backend``;
registering a backend here also gives it its parity test against the reference
(tests/test_backend_parity.py) and its place in every command's ``--backend`` choices.
"""
from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import re
from dataclasses import dataclass
from typing import Dict, Optional, Tuple, Union

import torch

from munit_fast.config import MunitConfig
from munit_fast.errors import MunitError

from .backend import Backend


@dataclass(frozen=True)
class BackendRequest:
    """Everything a backend may need to build itself for one direction of a model."""

    config: MunitConfig
    checkpoint: str
    backend: str = "eager"  # the registered name being built
    direction: str = "a2b"
    device: str = "cpu"
    precision: str = "fp32"
    channels_last: bool = False
    cuda_graphs: Union[bool, str] = False
    onnx_dir: Optional[str] = None
    engine_dir: Optional[str] = None
    openvino_dir: Optional[str] = None
    calib: Optional[str] = None  # calibration images or video for int8 backends


def device_kind(device: str) -> str:
    """The kind of a device name: ``cuda`` of ``cuda:1`` (PyTorch), ``GPU`` of ``GPU.1`` (OpenVINO)."""
    return re.split(r"[:.]", device, maxsplit=1)[0]


@dataclass(frozen=True)
class BackendSpec:
    name: str
    summary: str
    module: str  # munit_fast.runtime.backends.<module>.build(request) makes it
    precisions: Tuple[str, ...]
    devices: Tuple[str, ...]  # torch device types, or the runtime's own device names
    requires: Tuple[str, ...] = ()  # importable packages
    install: str = ""  # how a user gets them

    def missing(self) -> Optional[str]:
        """Why this backend cannot run here (a package is missing), or None."""
        absent = [name for name in self.requires if importlib.util.find_spec(name) is None]
        if absent:
            return f"--backend {self.name} needs {', '.join(absent)}: {self.install}"
        return None

    def check(self, device: str, precision: str) -> None:
        """One line when this backend cannot run ``precision`` on ``device`` here: generic checks,
        then the backend module's own ``check(device, precision)`` where it has one (a runtime
        that knows its devices and their capabilities)."""
        reason = self.missing()
        if reason:
            raise MunitError(reason)
        if precision not in self.precisions:
            raise MunitError(f"--backend {self.name} runs --precision {'/'.join(self.precisions)}, not {precision}")
        resolved = self.resolve_device(device)
        kind = device_kind(resolved)
        if kind not in self.devices:
            raise MunitError(f"--backend {self.name} runs on --device {'/'.join(self.devices)}, not {device}")
        if kind == "cuda" and not torch.cuda.is_available():
            if device != "auto":
                raise MunitError(f"--device {device}: CUDA is not available on this machine; use --device cpu")
            raise MunitError(f"--backend {self.name} runs on a CUDA GPU and this machine has none; "
                             "use --backend eager or onnx here")
        module_check = getattr(self._module(), "check", None)
        if module_check is not None:
            module_check(resolved, precision)

    def resolve_device(self, device: str) -> str:
        """``auto``: CUDA when this machine has it and the backend runs there, else its first device.
        Any other name is spelled as this backend lists its kind (matched case-insensitively:
        ``CPU`` -> ``cpu``, ``gpu.1`` -> ``GPU.1``), or left as given when it lists no such kind."""
        if device != "auto":
            kind = device_kind(device)
            for name in self.devices:
                if name.lower() == kind.lower():
                    return name + device[len(kind):]
            return device
        if "cuda" in self.devices and torch.cuda.is_available():
            return "cuda"
        return "cpu" if "cpu" in self.devices else self.devices[0]

    def _module(self):
        return importlib.import_module(f"munit_fast.runtime.backends.{self.module}")

    def build(self, request: BackendRequest) -> Backend:
        self.check(request.device, request.precision)
        request = dataclasses.replace(request, device=self.resolve_device(request.device))
        return self._module().build(request)


_TORCH_PRECISIONS = ("fp32", "bf16", "fp16")
BACKENDS: Dict[str, BackendSpec] = {spec.name: spec for spec in (
    BackendSpec("eager", "PyTorch with the reference ops: the exact path", "eager", _TORCH_PRECISIONS,
                ("cpu", "cuda")),
    BackendSpec("triton", "PyTorch with the fused Triton kernels", "eager", _TORCH_PRECISIONS, ("cuda",),
                ("triton",), "pip install 'munit-fast[triton]' (Linux + CUDA)"),
    BackendSpec("compile", "torch.compile of the reference ops", "eager", _TORCH_PRECISIONS, ("cpu", "cuda")),
    BackendSpec("onnx", "ONNX Runtime on the exported split graphs", "onnxruntime", ("fp32", "fp16"),
                ("cpu", "cuda"), ("onnx", "onnxruntime"), "pip install 'munit-fast[export]'"),
    BackendSpec("tensorrt", "TensorRT engines built from the graphs", "tensorrt", ("fp32", "fp16"), ("cuda",),
                ("onnx", "tensorrt"), "TensorRT from NVIDIA (pip install tensorrt, or JetPack on Jetson)"),
    BackendSpec("openvino", "OpenVINO IR converted from the graphs (CPU, Intel GPU, NPU; int8 by NNCF)", "openvino",
                ("fp32", "bf16", "fp16", "int8"), ("cpu", "GPU", "NPU", "AUTO"), ("openvino", "onnx"),
                "pip install 'munit-fast[openvino]'"),
)}
BACKEND_CHOICES = ("auto",) + tuple(BACKENDS)


def get_backend(name: str) -> BackendSpec:
    if name not in BACKENDS:
        raise MunitError(f"--backend {name!r}: expected one of {', '.join(BACKEND_CHOICES)}")
    return BACKENDS[name]


def choose_backend(requested: str, device: str = "auto", precision: str = "fp32",
                   engine_dir: Optional[str] = None) -> Tuple[str, str]:
    """-> (backend name, why), the one place ``auto`` is decided. A named backend passes through.
    auto never runs a lower precision than asked.

    auto on a device only one runtime has (OpenVINO's GPU, NPU, AUTO): that runtime.
    auto on CUDA: TensorRT when engines are given (``--engine-dir``; building them takes minutes,
    so auto never starts that) and TensorRT is installed; else the Triton kernels; else eager.
    auto on a CPU, by the measured speed of each precision (docs/benchmarks.md): int8 runs on
    OpenVINO (NNCF-quantized; one line naming the extra when it is not installed); bf16 on
    OpenVINO where the CPU has native bf16 (AMX or AVX-512 BF16) and OpenVINO is installed, else
    eager; fp32 and fp16 eager (OpenVINO fp32 is no faster than eager fp32 there, and eager is the
    exact reference path; torch.compile needs a C++ toolchain and a long warm-up; the Triton
    kernels only run interpreted)."""
    if requested != "auto":
        get_backend(requested)
        return requested, "as requested"
    if device != "auto" and device_kind(device).lower() not in ("cpu", "cuda"):
        for spec in BACKENDS.values():
            if device_kind(device).lower() in (name.lower() for name in spec.devices):
                return spec.name, f"--device {device} is a {spec.name} device"
    cuda = torch.cuda.is_available() and device_kind(device).lower() != "cpu"
    if cuda and engine_dir and BACKENDS["tensorrt"].missing() is None:
        return "tensorrt", f"CUDA, TensorRT and engines in {engine_dir}"
    if cuda and BACKENDS["triton"].missing() is None:
        return "triton", "CUDA and Triton available"
    if cuda:
        return "eager", "CUDA without Triton"
    openvino = BACKENDS["openvino"]
    if precision == "int8":
        if openvino.missing():
            raise MunitError(f"--precision int8 on a CPU runs on OpenVINO: {openvino.missing()}")
        return "openvino", "CPU, int8: OpenVINO with NNCF quantization"
    if precision == "bf16" and openvino.missing() is None:
        from .backends.openvino import has_native_bf16

        if has_native_bf16():
            return "openvino", "CPU with native bf16: OpenVINO bf16 is the fastest path there"
    return "eager", "CPU"
