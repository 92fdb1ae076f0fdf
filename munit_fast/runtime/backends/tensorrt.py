"""The ``tensorrt`` backend: TensorRT engines (built by ``munit_fast.export``) on a CUDA GPU.
Methods and attributes: `munit_fast.runtime.backend.Backend`.

Each engine runs on PyTorch's current CUDA stream with PyTorch-allocated device buffers
(``set_tensor_address`` + ``execute_async_v3``): no copies, and later PyTorch work on the stream
is ordered after the engine. Before deserializing, the sidecar is checked against this
machine's TensorRT version and GPU.
"""
from __future__ import annotations

import os
from typing import Dict

import torch

from munit_fast.errors import MunitError
from munit_fast.export.graphs import SPLIT_PARTS
from munit_fast.export.sidecar import check_compatible, profile_for, read_sidecar
from munit_fast.export.tensorrt_env import gpu_identity, import_tensorrt


class TrtEngine:
    """One deserialized engine and its execution context."""

    def __init__(self, path: str, device: torch.device):
        trt = import_tensorrt()
        if not os.path.isfile(path):
            raise MunitError(f"TensorRT engine not found: {path}")
        self.path = path
        self.device = device
        self.info = read_sidecar(path)
        check_compatible(self.info, path, trt.__version__, *gpu_identity(device))
        self.logger = trt.Logger(trt.Logger.WARNING)
        self.runtime = trt.Runtime(self.logger)
        if self.info.dla_core is not None:  # must be set before deserializing a DLA engine
            self.runtime.DLA_core = self.info.dla_core
        with open(path, "rb") as handle:
            self.engine = self.runtime.deserialize_cuda_engine(handle.read())
        if self.engine is None:
            raise MunitError(f"TensorRT cannot deserialize {path}; rebuild it with munit-fast export trt")
        self.context = self.engine.create_execution_context()
        self.profile = 0  # the optimization profile the context is set to
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        self.inputs = [n for n in names if self.engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        self.outputs = [n for n in names if self.engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT]

    def __call__(self, **inputs: torch.Tensor) -> torch.Tensor:
        """Named fp32 inputs -> the (single) fp32 output, on PyTorch's current stream."""
        with torch.cuda.device(self.device):
            keep = [inputs[name].to(self.device, torch.float32).contiguous() for name in self.inputs]
            stream = torch.cuda.current_stream(self.device)
            profile = profile_for(self.info, self.path, {n: tuple(t.shape) for n, t in zip(self.inputs, keep)})
            if profile != self.profile:  # static sizes (the DLA's): one profile each
                self.context.set_optimization_profile_async(profile, stream.cuda_stream)
                self.profile = profile
            for name, tensor in zip(self.inputs, keep):
                self.context.set_input_shape(name, tuple(tensor.shape))
                self.context.set_tensor_address(name, tensor.data_ptr())
            output = self.outputs[0]
            out = torch.empty(tuple(self.context.get_tensor_shape(output)), dtype=torch.float32, device=self.device)
            self.context.set_tensor_address(output, out.data_ptr())
            if not self.context.execute_async_v3(stream.cuda_stream):
                raise RuntimeError(f"TensorRT engine {self.path} failed to enqueue")
            for tensor in keep:  # the caching allocator must not reuse inputs before the engine has read them
                tensor.record_stream(stream)
        return out


class TensorRTBackend:
    """Same methods as ``EagerBackend``; engines for content_encoder, style_encoder and decoder."""

    def __init__(self, engines: Dict[str, str], device: torch.device):
        if device.type != "cuda":
            raise MunitError("--backend tensorrt runs on a CUDA GPU; pass --device cuda (or use --backend onnx)")
        self.engines = {part: TrtEngine(engines[part], device) for part in SPLIT_PARTS}
        meta = self.engines["decoder"].info.metadata
        self.style_dim = int(meta["style_dim"])
        self.n_downsample = int(meta["n_downsample"])
        self.input_dim = int(meta["input_dim"])
        self.output_dim = int(meta["output_dim"])
        self.content_dim = int(meta["content_dim"])
        self.device = device
        self.precision = self.engines["decoder"].info.precision
        self.name = f"tensorrt-{self.precision}"

    @torch.inference_mode()
    def encode_content(self, images: torch.Tensor) -> torch.Tensor:
        return self.engines["content_encoder"](image=images)

    @torch.inference_mode()
    def encode_style(self, images: torch.Tensor) -> torch.Tensor:
        return self.engines["style_encoder"](image=images)

    @torch.inference_mode()
    def decode(self, content: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        return self.engines["decoder"](content=content, style=styles.reshape(styles.shape[0], -1))


def build(request) -> TensorRTBackend:
    """Engines in ``request.engine_dir`` (default: beside the ONNX graphs), built when missing."""
    from munit_fast.devices import resolve_device
    from munit_fast.export.engine_cache import resolve_engines
    from munit_fast.export.onnx_cache import resolve_onnx_graphs

    device = resolve_device(request.device)
    graphs = resolve_onnx_graphs(request.config, request.checkpoint, request.direction, request.precision,
                                 request.onnx_dir)
    engines = resolve_engines(graphs, request.direction, request.precision, request.engine_dir, request.config)
    return TensorRTBackend(engines, device)
