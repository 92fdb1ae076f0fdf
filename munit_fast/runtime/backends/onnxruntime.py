"""The ``onnx`` backend: ONNX Runtime on the split graphs (exported by ``munit_fast.export``), on
the CPU or CUDA execution provider. Methods and attributes: `munit_fast.runtime.backend.Backend`.

On CUDA, inputs and outputs are bound to PyTorch CUDA tensors (I/O binding): no host copies.
"""
from __future__ import annotations

import os
from typing import Dict, Optional, Sequence

import numpy as np
import torch

from munit_fast.errors import MunitError
from munit_fast.export.graphs import SPLIT_PARTS, split_graphs_info
from munit_fast.export.onnx_export import read_metadata
from munit_fast.runtime.backend import decode_inputs

PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}


def _import_ort():
    try:
        import onnxruntime
    except ImportError:
        raise MunitError("--backend onnx needs onnxruntime (pip install 'munit-fast[export]', "
                         "or onnxruntime-gpu for CUDA)") from None
    return onnxruntime


def make_session(path: str, device: torch.device, threads: Optional[int] = None):
    """An InferenceSession on ``device``'s execution provider, with a one-line error when it is missing."""
    ort = _import_ort()
    if not os.path.isfile(path):
        raise MunitError(f"ONNX graph not found: {path}")
    provider = PROVIDERS[device.type]
    if provider not in ort.get_available_providers():
        raise MunitError(f"onnxruntime here has no {provider} (available: {', '.join(ort.get_available_providers())}); "
                         "install onnxruntime-gpu for CUDA or use --device cpu")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = threads
    providers = [(provider, {"device_id": device.index or 0})] if device.type == "cuda" else [provider]
    try:
        return ort.InferenceSession(path, sess_options=options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own exception types for unreadable graphs
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MunitError(f"onnxruntime cannot load {path}: {first}") from None


class OrtBackend:
    """Runs the ``content_encoder``, ``style_encoder`` and ``decoder`` graphs of one direction."""

    def __init__(self, paths: Dict[str, str], device: torch.device = torch.device("cpu"),
                 threads: Optional[int] = None):
        missing = [p for p in SPLIT_PARTS if p not in paths]
        if missing:
            raise MunitError(f"--backend onnx needs the graphs {', '.join(SPLIT_PARTS)}; missing {', '.join(missing)}")
        self.device = device
        info = split_graphs_info({part: read_metadata(paths[part]) for part in SPLIT_PARTS}, paths, "ONNX graphs")
        self.style_dim, self.n_downsample, self.precision = info.style_dim, info.n_downsample, info.precision
        self.input_dim, self.output_dim, self.content_dim = info.input_dim, info.output_dim, info.content_dim
        self.name = f"onnx-{device.type}-{self.precision}"
        self.sessions = {part: make_session(paths[part], device, threads) for part in SPLIT_PARTS}

    def _run(self, part: str, inputs: Sequence[torch.Tensor], output_shape) -> torch.Tensor:
        session = self.sessions[part]
        names = [i.name for i in session.get_inputs()]
        if self.device.type == "cpu":
            feeds = {n: t.detach().to("cpu", torch.float32).contiguous().numpy() for n, t in zip(names, inputs)}
            return torch.from_numpy(np.ascontiguousarray(session.run(None, feeds)[0]))
        binding = session.io_binding()
        keep = []  # the bound contiguous fp32 copies must outlive the run
        for name, tensor in zip(names, inputs):
            tensor = tensor.detach().to(self.device, torch.float32).contiguous()
            keep.append(tensor)
            binding.bind_input(name, "cuda", self.device.index or 0, np.float32, tuple(tensor.shape), tensor.data_ptr())
        out = torch.empty(output_shape, device=self.device, dtype=torch.float32)
        binding.bind_output(session.get_outputs()[0].name, "cuda", self.device.index or 0, np.float32,
                            tuple(out.shape), out.data_ptr())
        torch.cuda.current_stream(self.device).synchronize()  # inputs written by PyTorch are ready
        session.run_with_iobinding(binding)
        return out

    @torch.inference_mode()
    def encode_content(self, images: torch.Tensor) -> torch.Tensor:
        b, _, h, w = images.shape
        scale = 2 ** self.n_downsample
        return self._run("content_encoder", [images], (b, self.content_dim, h // scale, w // scale))

    @torch.inference_mode()
    def encode_style(self, images: torch.Tensor) -> torch.Tensor:
        return self._run("style_encoder", [images], (images.shape[0], self.style_dim))

    @torch.inference_mode()
    def decode(self, content: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        styles = decode_inputs(content, styles)
        scale = 2 ** self.n_downsample
        shape = (styles.shape[0], self.output_dim, content.shape[2] * scale, content.shape[3] * scale)
        return self._run("decoder", [content, styles], shape)


def build(request) -> OrtBackend:
    """The split graphs of ``request.onnx_dir`` (or the cache), exported first when missing."""
    from munit_fast.devices import resolve_device
    from munit_fast.export.onnx_cache import resolve_onnx_graphs

    device = resolve_device(request.device)
    graphs = resolve_onnx_graphs(request.config, request.checkpoint, request.direction, request.precision,
                                 request.onnx_dir)
    return OrtBackend(graphs, device)
