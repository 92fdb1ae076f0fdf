"""The ``openvino`` backend: OpenVINO on the IR of the split graphs (``munit_fast.export``
openvino_export / openvino_cache), on the CPU or another OpenVINO device (GPU: an Intel GPU,
NPU, AUTO: OpenVINO's own choice). Methods and attributes: `munit_fast.runtime.backend.Backend`.

Precision: fp32, bf16 and fp16 (not on the CPU, whose fp16 decoder is inaccurate) compile the
IR with that INFERENCE_PRECISION_HINT (set for fp32 too: on CPUs with AMX, OpenVINO's default is
bf16); int8 runs NNCF-quantized IR, its float layers at the device's default precision (bf16 on a
CPU with native bf16, else fp32).
"""
from __future__ import annotations

from typing import Dict, List, Mapping, Sequence

import numpy as np
import torch

from munit_fast.errors import MunitError
from munit_fast.export.graphs import SPLIT_PARTS, split_graphs_info
from munit_fast.export.openvino_export import openvino_core, read_ir_metadata
from munit_fast.runtime.backend import decode_inputs

PRECISION_HINTS = {"fp32": "f32", "bf16": "bf16", "fp16": "f16"}
CAPABILITIES = {"bf16": "BF16", "fp16": "FP16", "int8": "INT8"}  # OPTIMIZATION_CAPABILITIES a precision needs
META_DEVICES = ("AUTO",)  # OpenVINO devices that stand for others: no capabilities of their own


def openvino_device(device: str) -> str:
    """A --device as OpenVINO names it: ``cpu`` -> ``CPU``, ``gpu.1`` -> ``GPU.1``."""
    return device.upper()


def _core():
    return openvino_core()


def _listed(name: str, available: Sequence[str]) -> bool:
    """``GPU`` is listed when OpenVINO has ``GPU`` or numbered ``GPU.0``, ``GPU.1``."""
    return name in available or any(found.split(".")[0] == name for found in available)


def capabilities(core, name: str) -> List[str]:
    return list(core.get_property(name, "OPTIMIZATION_CAPABILITIES"))


def describe_machine(core) -> str:
    """What OpenVINO has here, for error lines: devices and the CPU's capabilities."""
    devices = list(core.available_devices)
    text = f"OpenVINO devices here: {', '.join(devices + list(META_DEVICES))}"
    if "CPU" in devices:
        text += f"; CPU capabilities: {', '.join(capabilities(core, 'CPU'))}"
    return text


def check(device: str, precision: str) -> None:
    """One line when OpenVINO has no ``device`` here or the device cannot run ``precision``."""
    core = _core()
    name = openvino_device(device)
    if name.split(".")[0] in META_DEVICES:
        return
    available = list(core.available_devices)
    if not _listed(name, available):
        raise MunitError(f"--device {device}: not available ({describe_machine(core)}); pick one of those")
    if precision == "fp16" and name.split(".")[0] == "CPU":
        raise MunitError("--precision fp16 is not supported on OpenVINO's CPU: its fp16 decoder loses the image "
                         "(AdaIN and layer norm in fp16); use --precision bf16 or fp32 there, fp16 on --device GPU")
    needed = CAPABILITIES.get(precision)
    if needed and needed not in capabilities(core, name):
        raise MunitError(f"--precision {precision}: OpenVINO's {name} here has no {needed} "
                         f"(its capabilities: {', '.join(capabilities(core, name))}; {describe_machine(core)}); "
                         "use --precision fp32, or another --device")


def has_native_bf16() -> bool:
    """OpenVINO's CPU plugin runs bf16 natively here (AMX or AVX-512 BF16)."""
    return "BF16" in capabilities(_core(), "CPU")


def compile_config(core, name: str, precision: str) -> Dict[str, object]:
    config: Dict[str, object] = {"PERFORMANCE_HINT": "LATENCY"}
    hint = PRECISION_HINTS.get(precision)
    if hint is None:
        return config
    if name.split(".")[0] in META_DEVICES:  # AUTO passes the precision on to the CPU it may run on
        config["DEVICE_PROPERTIES"] = {"CPU": {"INFERENCE_PRECISION_HINT": hint}}
    elif "INFERENCE_PRECISION_HINT" in core.get_property(name, "SUPPORTED_PROPERTIES"):
        config["INFERENCE_PRECISION_HINT"] = hint
    return config


def compile_ir(path: str, device: str, precision: str):
    """The compiled model of the IR at ``path`` on OpenVINO device ``device`` at ``precision``."""
    core = _core()
    return core.compile_model(core.read_model(path), device, compile_config(core, device, precision))


class OpenVINOBackend:
    """Runs the ``content_encoder``, ``style_encoder`` and ``decoder`` IR of one direction."""

    def __init__(self, paths: Mapping[str, str], device: str = "CPU"):
        missing = [part for part in SPLIT_PARTS if part not in paths]
        if missing:
            raise MunitError(f"--backend openvino needs the IR of {', '.join(SPLIT_PARTS)}; missing "
                             f"{', '.join(missing)}")
        metadata = {part: read_ir_metadata(paths[part]) for part in SPLIT_PARTS}
        if "direction" not in metadata["decoder"]:
            raise MunitError(f"{paths['decoder']} is not IR built by munit-fast export openvino (no munit-fast "
                             "metadata)")
        info = split_graphs_info(metadata, paths, "OpenVINO IR")
        self.style_dim, self.n_downsample, self.precision = info.style_dim, info.n_downsample, info.precision
        self.input_dim, self.output_dim, self.content_dim = info.input_dim, info.output_dim, info.content_dim
        self.device = device
        self.name = f"openvino-{device}-{self.precision}"
        self.requests = {part: compile_ir(paths[part], device, self.precision).create_infer_request()
                         for part in SPLIT_PARTS}

    def _run(self, part: str, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        arrays = [t.detach().to("cpu", torch.float32).contiguous().numpy() for t in inputs]
        result = self.requests[part].infer(arrays)
        return torch.from_numpy(np.array(result[0], dtype=np.float32, copy=True))

    @torch.inference_mode()
    def encode_content(self, images: torch.Tensor) -> torch.Tensor:
        # images (B, input_dim, H, W) -> content (B, content_dim, H / 2^n, W / 2^n)
        return self._run("content_encoder", [images])

    @torch.inference_mode()
    def encode_style(self, images: torch.Tensor) -> torch.Tensor:
        # images (B, output_dim, H, W) -> styles (B, style_dim)
        return self._run("style_encoder", [images])

    @torch.inference_mode()
    def decode(self, content: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        # content (1 or K, content_dim, h, w), styles (K, style_dim) -> images (K, output_dim, H, W)
        styles = decode_inputs(content, styles)
        return self._run("decoder", [content, styles])


def build(request) -> OpenVINOBackend:
    """The IR of ``request.openvino_dir`` (or the cache), converted (and quantized) first when missing."""
    from munit_fast.export.openvino_cache import resolve_openvino_ir

    paths = resolve_openvino_ir(request.config, request.checkpoint, request.direction, request.precision,
                                request.openvino_dir, request.calib, onnx_dir=request.onnx_dir)
    return OpenVINOBackend(paths, openvino_device(request.device))
