"""The PyTorch backends (``eager``, ``triton``, ``compile``): the networks themselves, with the
reference ops or the fused Triton kernels, optionally compiled or replayed from CUDA graphs.
Methods and attributes: `munit_fast.runtime.backend.Backend`."""
from __future__ import annotations

import copy
from typing import Union

import torch
import torch.nn as nn

from munit_fast.devices import resolve_device, resolve_dtype
from munit_fast.kernels.dispatch import kernels_run_on
from munit_fast.model import AdaINGen
from munit_fast.model.precision import cast_convolutions
from munit_fast.model.upsample_conv import PolyphaseDecoder

from ..cuda_graphs import GraphedFunction, check_cuda_graphs


class EagerBackend:
    """PyTorch modules: the reference ops (``kernels="ref"``, the default: the exact path on every
    device), optionally in bf16/fp16 (convolutions only), channels_last, with the
    Triton kernels (``kernels="triton"``) and/or ``torch.compile``, and on CUDA replayed from
    CUDA graphs (``cuda_graphs=True``: content encoder, and style MLP + decoder, one graph per
    input shape; ``"auto"``: graphs on CUDA unless compiled, falling back to launched calls with
    a warning if a capture fails).

    ``polyphase=True`` (default) runs the decoder's upsample + 5x5 convs in polyphase form
    (same result up to fp32 rounding, 2.8x fewer multiply-adds there); ``polyphase=False`` is
    the reference path, computed exactly as the original does.
    """

    def __init__(self, gen_source: AdaINGen, gen_target: AdaINGen, device: str = "cpu", precision: str = "fp32",
                 channels_last: bool = False, kernels: str = "ref", compile: bool = False, polyphase: bool = True,
                 cuda_graphs: Union[bool, str] = False):
        self.device = resolve_device(device)
        graph_fallback = cuda_graphs == "auto"
        if graph_fallback:
            cuda_graphs = self.device.type == "cuda" and not compile
        elif cuda_graphs:
            check_cuda_graphs(self.device)
        self.dtype = resolve_dtype(precision, self.device)
        self.precision = precision
        self.channels_last = channels_last
        self.style_dim = gen_target.style_dim
        self.n_downsample = gen_source.n_downsample
        self.input_dim = gen_source.input_dim
        self.output_dim = gen_target.input_dim
        self.content_dim = gen_source.content_dim
        self.content_encoder = self._prepare(gen_source.enc_content, kernels)
        self.style_encoder = self._prepare(gen_target.enc_style, kernels)
        decoder = self._prepare(gen_target.dec, kernels)
        self.decoder = PolyphaseDecoder(decoder) if polyphase else decoder
        self.mlp = gen_target.mlp.to(self.device).float().eval()
        self.name = ("compile" if compile else ("triton" if kernels_run_on(self.device, kernels) else "eager"))
        self.name += f"-{precision}"
        self._encode_content = self.content_encoder
        self._decode = self.decoder
        if compile:
            self._encode_content = torch.compile(self.content_encoder, dynamic=True)
            self._decode = torch.compile(self.decoder, dynamic=True)
        self._decode_styles = self._decode_with_mlp
        if cuda_graphs:
            self.name += "-graphs"
            capture_at = 2 if graph_fallback else 1  # automatic graphs: only for shapes that repeat
            self._encode_content = GraphedFunction(self._encode_content, fallback=graph_fallback, capture_at=capture_at)
            self._decode_styles = GraphedFunction(self._decode_with_mlp, fallback=graph_fallback, capture_at=capture_at)

    def _prepare(self, module: nn.Module, kernels: str) -> nn.Module:
        from munit_fast.model import set_kernel_impl

        module = copy.deepcopy(module).to(self.device).float().eval()  # the caller's modules stay as they are
        set_kernel_impl(module, kernels)
        cast_convolutions(module, self.dtype)
        if self.channels_last:
            module = module.to(memory_format=torch.channels_last)
        return module

    def _input(self, images: torch.Tensor) -> torch.Tensor:
        images = images.to(self.device, self.dtype)
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        return images

    @torch.inference_mode()
    def encode_content(self, images: torch.Tensor) -> torch.Tensor:
        return self._encode_content(self._input(images))

    @torch.inference_mode()
    def encode_style(self, images: torch.Tensor) -> torch.Tensor:
        styles = self.style_encoder(self._input(images)).float()
        return styles.reshape(styles.shape[0], -1)

    def _decode_with_mlp(self, content: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        # content (B or 1, C, h, w), styles (B, style_dim) fp32 -> images (B, C_out, H, W) fp32
        return self._decode(content, self.mlp(styles)).float()

    @torch.inference_mode()
    def decode(self, content: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        # content from this backend's encode_content, or fp32 from another backend: cast alike
        content = self._input(content)
        styles = styles.to(self.device, torch.float32).reshape(styles.shape[0], -1)
        return self._decode_styles(content, styles)


def build(request) -> EagerBackend:
    """The eager, triton or compile backend of a `BackendRequest`."""
    from munit_fast.checkpoint import load_generators

    gen_a, gen_b = load_generators(request.config, request.checkpoint)
    source, target = (gen_a, gen_b) if request.direction == "a2b" else (gen_b, gen_a)
    return EagerBackend(source, target, device=request.device, precision=request.precision,
                        channels_last=request.channels_last, kernels="triton" if request.backend == "triton" else "ref",
                        compile=request.backend == "compile", cuda_graphs=request.cuda_graphs)
